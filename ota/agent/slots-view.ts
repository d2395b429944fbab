/** The slot store's state as callers see it: records with their absolute file paths. */
import { join } from "node:path";
import type { Pointer, SlotName, SlotRecord, SlotRelease } from "./slots-schema.ts";

export interface SlotView extends SlotRecord {
  slot: SlotName;
  /** Absolute path of the release file in the slot. */
  path: string;
}

export type SlotPhase = "empty" | "idle" | "staging" | "pending";

export interface SlotStatus {
  /** empty: nothing installed; idle: serving, nothing in progress; staging: a release is being
   *  staged; pending: switched, awaiting commit (health check) or rollback. */
  phase: SlotPhase;
  active: SlotView | null;
  previous: SlotView | null;
  pending: boolean;
  staging: { slot: SlotName; release: SlotRelease; startedAt: number; path: string } | null;
  slots: Record<SlotName, SlotView | null>;
  generation: number;
}

export function statusOf(p: Pointer, pathOf: (slot: SlotName, file: string) => string, stagingDir: string): SlotStatus {
  const view = (slot: SlotName | null): SlotView | null => {
    const rec = slot === null ? null : p.slots[slot];
    return slot === null || !rec ? null : { ...structuredClone(rec), slot, path: pathOf(slot, rec.release.file) };
  };
  const phase: SlotPhase = p.pending ? "pending" : p.staging ? "staging" : p.active ? "idle" : "empty";
  return {
    phase,
    active: view(p.active),
    previous: view(p.previous),
    pending: p.pending,
    staging: p.staging && { ...structuredClone(p.staging), path: join(stagingDir, p.staging.release.file) },
    slots: { a: view("a"), b: view("b") },
    generation: p.generation,
  };
}
