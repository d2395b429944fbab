/**
 * Crash safety of the A/B slots: a child process cycles through stage, switch, commit and
 * rollback and is SIGKILLed at random moments. After every kill the pointer on disk — before and
 * after the store reopens — names only complete slots whose files match their recorded sha256.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../../runtime/clock.ts";
import { readPointer } from "../../../ota/agent/slots-pointer.ts";
import type { Pointer, SlotName } from "../../../ota/agent/slots-schema.ts";
import { SlotStore } from "../../../ota/agent/slots.ts";
import { removeTempDirs, sha256, tmp } from "./helpers.ts";

afterAll(removeTempDirs);

const CHILD = join(import.meta.dir, "slots-child.ts");
const KILLS = 15;

/** Every slot the pointer relies on holds its whole, verified file. */
function checkInvariant(root: string, p: Pointer): void {
  const complete = (slot: SlotName | null, states: string[]) => {
    if (slot === null) return;
    const rec = p.slots[slot];
    expect(rec).not.toBeNull();
    expect(states).toContain(rec!.state);
    const bytes = readFileSync(join(root, slot, rec!.release.file));
    expect(bytes.byteLength).toBe(rec!.release.size);
    expect(sha256(bytes)).toBe(rec!.release.sha256);
  };
  complete(p.active, p.pending ? ["staged"] : ["committed"]);
  complete(p.previous, ["committed"]);
  for (const slot of ["a", "b"] as const) if (p.slots[slot]?.state === "staged") complete(slot, ["staged"]);
  if (p.staging) expect(p.staging.slot).not.toBe(p.active);
}

async function runUntilKilled(root: string, afterReadyMs: number): Promise<void> {
  const child = Bun.spawn([process.execPath, CHILD, root], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the slots child exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  await Bun.sleep(afterReadyMs);
  child.kill("SIGKILL");
  expect(await child.exited).not.toBe(0);
}

test(`SIGKILL at ${KILLS} random moments of stage/switch/commit/rollback: the pointer always names complete slots`, async () => {
  const root = join(tmp(), "models", "slots");
  const generations: number[] = [];
  let activeOnce = false;
  for (let i = 0; i < KILLS; i++) {
    await runUntilKilled(root, 5 + Math.random() * 120);
    const raw = readPointer(root);
    checkInvariant(root, raw);
    const store = SlotStore.open(root, { clock: systemClock });
    const reopened = store.current();
    checkInvariant(root, readPointer(root));
    expect(readdirSync(root).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // Once something was installed, there is always a model to serve.
    if (activeOnce) expect(reopened.active).not.toBeNull();
    activeOnce ||= reopened.active !== null;
    generations.push(reopened.generation);
    if (reopened.active) expect(existsSync(reopened.active.path)).toBe(true);
  }
  // The child did real work between kills: the pointer moved on across the run.
  expect(generations.at(-1)!).toBeGreaterThan(generations[0]!);
  expect(activeOnce).toBe(true);
}, 120_000);
