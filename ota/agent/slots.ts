/**
 * A/B slots for one model line (the base model, or one LoRA adapter), under `root`:
 *
 *   root/current    the pointer (slots-schema.ts), replaced atomically and fsynced
 *   root/a/, root/b/ one release file each
 *   root/staging/   where the next release downloads (`beginStaging().path`)
 *
 * The active slot's files are never touched; a release is moved into the inactive slot only when
 * complete, and the pointer names a slot only once its file is in place. So a crash at any point
 * leaves a pointer whose active and previous slots are complete. The previous slot stays
 * available for `rollback()` until the next release is moved over it (`finishStaging`).
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../runtime/clock.ts";
import { validate } from "../../runtime/validation.ts";
import { hashFile } from "./download-partial.ts";
import { OtaAgentError, type SlotFailureReason } from "./errors.ts";
import { syncDir } from "../../runtime/license/durable-write.ts";
import { readPointer, removeStaleTemps, writePointer } from "./slots-pointer.ts";
import { SlotReleaseSchema, type Pointer, type SlotName, type SlotRecord, type SlotRelease } from "./slots-schema.ts";
import { statusOf, type SlotStatus, type SlotView } from "./slots-view.ts";

export interface StagingTarget {
  slot: SlotName;
  /** The staging directory (download partials live here too). */
  dir: string;
  /** Where the release file must be when `finishStaging()` is called: the downloader's `dest`. */
  path: string;
  release: SlotRelease;
}

const refuse = (reason: SlotFailureReason, message: string) => new OtaAgentError("conflict", reason, message);
const other = (s: SlotName): SlotName => (s === "a" ? "b" : "a");
const RELEASE_FIELDS = ["kind", "name", "version", "file", "sha256", "size"] as const satisfies readonly (keyof SlotRelease)[];
const sameRelease = (x: SlotRelease, y: SlotRelease) => RELEASE_FIELDS.every((k) => x[k] === y[k]);
const sizeOf = (path: string): number | null => (existsSync(path) ? statSync(path).size : null);

export class SlotStore {
  private constructor(
    readonly root: string,
    private readonly clock: Clock,
    private p: Pointer,
  ) {}

  static open(root: string, deps: { clock: Clock }): SlotStore {
    for (const d of ["a", "b", "staging"]) mkdirSync(join(root, d), { recursive: true });
    removeStaleTemps(root);
    const store = new SlotStore(root, deps.clock, readPointer(root));
    store.completeInterruptedMove();
    return store;
  }

  get stagingDir(): string {
    return join(this.root, "staging");
  }

  slotPath(slot: SlotName, file: string): string {
    return join(this.root, slot, file);
  }

  current(): SlotStatus {
    return statusOf(this.p, (slot, file) => this.slotPath(slot, file), this.stagingDir);
  }

  /** The slot the next release goes to: never the active one. */
  inactiveSlot(): SlotName {
    return this.p.active === null ? "a" : other(this.p.active);
  }

  /** Reserves the inactive slot for `release`; the same release again continues (resume). */
  beginStaging(release: SlotRelease): StagingTarget {
    const r = validate(SlotReleaseSchema, release);
    if (this.p.pending) throw refuse("switch_pending", "a switch awaits its health check: commit or roll back first");
    const slot = this.inactiveSlot();
    const target = { slot, dir: this.stagingDir, path: join(this.stagingDir, r.file), release: r };
    if (this.p.staging && this.p.staging.slot === slot && sameRelease(this.p.staging.release, r)) return target;
    this.clearStagingDir(); // another release's partials are worthless now
    this.update((p) => (p.staging = { slot, release: r, startedAt: this.clock.now() }));
    return target;
  }

  /** Drops the release being staged and its files; the slots are unchanged. */
  abandonStaging(): void {
    if (!this.p.staging) return;
    this.update((p) => (p.staging = null));
    this.clearStagingDir();
  }

  /** Moves the complete staged file into the inactive slot; the slot is then `staged`. */
  async finishStaging(opts: { verifySha256?: boolean } = {}): Promise<SlotView> {
    const st = this.p.staging;
    if (!st) throw refuse("not_staging", "nothing is being staged: call beginStaging first");
    const staged = join(this.stagingDir, st.release.file);
    const size = sizeOf(staged);
    if (size !== st.release.size) throw refuse("staged_file_invalid", `${staged}: ${size === null ? "missing" : `${size} bytes`}, the release says ${st.release.size}`);
    if (opts.verifySha256) {
      const digest = (await hashFile(staged)).digest("hex");
      if (digest !== st.release.sha256) throw refuse("staged_file_invalid", `${staged}: sha256 ${digest}, the release says ${st.release.sha256}`);
      if (this.p.staging !== st) throw refuse("not_staging", "the staging changed while the file was being hashed");
    }
    // 1. The slot is declared incomplete (and no longer a rollback target) before its files change.
    this.update((p) => {
      p.slots[st.slot] = { release: st.release, state: "staging", stagedAt: null, committedAt: null };
      if (p.previous === st.slot) p.previous = null;
    });
    // 2. Its old files go; the new one moves in with one rename (same filesystem).
    const dir = join(this.root, st.slot);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    syncDir(this.root);
    renameSync(staged, join(dir, st.release.file));
    syncDir(dir);
    syncDir(this.stagingDir);
    // 3. Complete.
    return this.markStaged();
  }

  /** Serves `slot` from now on, pending its health check: `commit()` or `rollback()` next. */
  switchTo(slot: SlotName): SlotStatus {
    if (this.p.pending) throw refuse("switch_pending", "a switch awaits its health check: commit or roll back first");
    if (this.p.staging) throw refuse("staging_in_progress", `slot ${this.p.staging.slot} is being staged: finish or abandon it first`);
    if (this.p.active === slot) throw refuse("already_active", `slot ${slot} is already active`);
    const rec = this.p.slots[slot];
    if (rec?.state !== "staged" || sizeOf(this.slotPath(slot, rec.release.file)) !== rec.release.size) {
      throw refuse("not_staged", `slot ${slot} holds no staged release${rec ? ` (it is ${rec.state})` : ""}`);
    }
    this.update((p) => {
      p.previous = p.active;
      p.active = slot;
      p.pending = true;
    });
    return this.current();
  }

  /** The switched-to slot passed its health check: it stays, the previous one is kept for rollback. */
  commit(): SlotStatus {
    if (!this.p.pending || this.p.active === null) throw refuse("no_pending_switch", "no switch awaits a commit");
    const at = this.clock.now();
    this.update((p) => {
      const rec = p.slots[p.active!]!;
      p.slots[p.active!] = { ...rec, state: "committed", committedAt: at };
      p.pending = false;
    });
    return this.current();
  }

  /**
   * Back to the previous slot. After a failed health check (pending) the abandoned slot is marked
   * failed; after a committed update the two swap, so the newer one stays for a roll-forward.
   */
  rollback(): SlotStatus {
    if (this.p.staging) throw refuse("staging_in_progress", `slot ${this.p.staging.slot} is being staged: abandon it first`);
    if (this.p.pending) {
      this.update((p) => {
        p.slots[p.active!] = { ...p.slots[p.active!]!, state: "failed" };
        p.active = p.previous;
        p.previous = null;
        p.pending = false;
      });
      return this.current();
    }
    const prev = this.p.previous;
    if (prev === null || this.p.slots[prev]?.state !== "committed") throw refuse("no_previous", "there is no previous release to roll back to");
    this.update((p) => {
      p.previous = p.active;
      p.active = prev;
    });
    return this.current();
  }

  private markStaged(): SlotView {
    const st = this.p.staging!;
    const at = this.clock.now();
    this.update((p) => {
      p.slots[st.slot] = { release: st.release, state: "staged", stagedAt: at, committedAt: null } satisfies SlotRecord;
      p.staging = null;
    });
    this.clearStagingDir();
    return this.current().slots[st.slot]!;
  }

  /** A crash between moving the file into the slot and recording it: finish recording. */
  private completeInterruptedMove(): void {
    const st = this.p.staging;
    const rec = st ? this.p.slots[st.slot] : null;
    if (!st || rec?.state !== "staging" || !sameRelease(rec.release, st.release)) return;
    if (sizeOf(join(this.stagingDir, st.release.file)) !== null) return; // not moved yet: finishStaging redoes it
    if (sizeOf(this.slotPath(st.slot, st.release.file)) === st.release.size) this.markStaged();
  }

  private clearStagingDir(): void {
    rmSync(this.stagingDir, { recursive: true, force: true });
    mkdirSync(this.stagingDir);
    syncDir(this.root);
  }

  /** Writes a changed copy durably, then adopts it: a failed write leaves the state unchanged. */
  private update(change: (p: Pointer) => void): void {
    const next = structuredClone(this.p);
    change(next);
    next.generation++;
    writePointer(this.root, next);
    this.p = next;
  }
}

export type { SlotName, SlotRelease, SlotRecord, SlotState } from "./slots-schema.ts";
export type { SlotPhase, SlotStatus, SlotView } from "./slots-view.ts";
