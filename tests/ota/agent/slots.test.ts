/** The A/B slot store's state machine on real files: staging, switch, commit, rollback, refusals. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../../runtime/clock.ts";
import { isOtaAgentError, type SlotFailureReason } from "../../../ota/agent/errors.ts";
import { POINTER_FILE, readPointer, writePointer } from "../../../ota/agent/slots-pointer.ts";
import type { SlotRelease } from "../../../ota/agent/slots-schema.ts";
import { SlotStore } from "../../../ota/agent/slots.ts";
import { removeTempDirs, sha256, tmp } from "./helpers.ts";
import { releaseBytes } from "./slot-fixture.ts";

afterAll(removeTempDirs);

let nowMs = 1_800_000_000_000;
const clock: Clock = { now: () => nowMs, monotonic: () => nowMs };

function release(n: number, kind: SlotRelease["kind"] = "base-model"): SlotRelease {
  const bytes = releaseBytes(n);
  return { kind, name: "qwen-small", version: `1.${n}.0`, file: `qwen-${n}.gguf`, sha256: sha256(bytes), size: bytes.byteLength };
}

/** beginStaging + the file written where the downloader would put it + finishStaging. */
async function stage(store: SlotStore, n: number, kind: SlotRelease["kind"] = "base-model") {
  const target = store.beginStaging(release(n, kind));
  writeFileSync(target.path, releaseBytes(n));
  nowMs += 1_000;
  return store.finishStaging();
}

async function install(store: SlotStore, n: number) {
  const staged = await stage(store, n);
  store.switchTo(staged.slot);
  nowMs += 1_000;
  return store.commit();
}

function refused(fn: () => unknown, reason: SlotFailureReason, store: SlotStore): void {
  const before = readFileSync(join(store.root, POINTER_FILE), "utf8");
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isOtaAgentError(err, reason)).toBe(true);
  expect((err as { code: string }).code).toBe("conflict");
  // Refused means nothing changed.
  expect(readFileSync(join(store.root, POINTER_FILE), "utf8")).toBe(before);
}

const readSlot = (store: SlotStore, slot: "a" | "b") => readdirSync(join(store.root, slot));

test("an empty store: nothing active, slot a is where the first release goes", () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  expect(store.current()).toMatchObject({ phase: "empty", active: null, previous: null, pending: false, staging: null, slots: { a: null, b: null }, generation: 0 });
  expect(store.inactiveSlot()).toBe("a");
  expect(readdirSync(store.root).sort()).toEqual(["a", "b", "staging"]);
});

test("first install: staged in a, switched (pending), committed with timestamps", async () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  const target = store.beginStaging(release(1));
  expect(target).toEqual({ slot: "a", dir: join(store.root, "staging"), path: join(store.root, "staging", "qwen-1.gguf"), release: release(1) });
  expect(store.current().phase).toBe("staging");
  writeFileSync(target.path, releaseBytes(1));
  const staged = await store.finishStaging({ verifySha256: true });
  expect(staged).toMatchObject({ slot: "a", state: "staged", stagedAt: nowMs, committedAt: null, path: join(store.root, "a", "qwen-1.gguf"), release: release(1) });
  expect(readdirSync(store.stagingDir)).toEqual([]);
  const pending = store.switchTo("a");
  expect(pending).toMatchObject({ phase: "pending", pending: true, active: { slot: "a", state: "staged" }, previous: null });
  const committed = store.commit();
  expect(committed).toMatchObject({ phase: "idle", pending: false, active: { slot: "a", state: "committed", committedAt: nowMs }, previous: null });
  expect(sha256(readFileSync(committed.active!.path))).toBe(release(1).sha256);
});

test("second install goes to b; a stays intact as previous; rollback and roll-forward swap them", async () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  await install(store, 1);
  expect(store.inactiveSlot()).toBe("b");
  const after = await install(store, 2);
  expect(after).toMatchObject({ active: { slot: "b", release: release(2) }, previous: { slot: "a", release: release(1), state: "committed" } });
  expect(sha256(readFileSync(after.previous!.path))).toBe(release(1).sha256);
  const back = store.rollback();
  expect(back).toMatchObject({ phase: "idle", active: { slot: "a", release: release(1) }, previous: { slot: "b", release: release(2), state: "committed" } });
  const forward = store.rollback();
  expect(forward).toMatchObject({ active: { slot: "b" }, previous: { slot: "a" } });
  expect(readSlot(store, "a")).toEqual(["qwen-1.gguf"]);
  expect(readSlot(store, "b")).toEqual(["qwen-2.gguf"]);
});

test("a failed health check: rollback while pending returns to the old slot and marks the new one failed", async () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  await install(store, 1);
  const staged = await stage(store, 2);
  store.switchTo(staged.slot);
  const back = store.rollback();
  expect(back).toMatchObject({ phase: "idle", pending: false, active: { slot: "a", state: "committed" }, previous: null, slots: { b: { state: "failed" } } });
  refused(() => store.switchTo("b"), "not_staged", store);
  refused(() => store.rollback(), "no_previous", store);
  // The next release replaces the failed one.
  const next = await install(store, 3);
  expect(next).toMatchObject({ active: { slot: "b", release: release(3) }, previous: { slot: "a", release: release(1) } });
});

test("the previous slot stays available for rollback until the next release is moved over it", async () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  await install(store, 1);
  await install(store, 2);
  const target = store.beginStaging(release(3));
  expect(target.slot).toBe("a");
  writeFileSync(`${target.path}.part`, releaseBytes(3).subarray(0, 100)); // a download under way
  expect(store.current()).toMatchObject({ phase: "staging", previous: { slot: "a", release: release(1) } });
  expect(sha256(readFileSync(join(store.root, "a", "qwen-1.gguf")))).toBe(release(1).sha256);
  // Rolling back now would serve the slot being staged into: refused until the staging is dropped.
  refused(() => store.rollback(), "staging_in_progress", store);
  store.abandonStaging();
  expect(readdirSync(store.stagingDir)).toEqual([]);
  expect(store.rollback()).toMatchObject({ active: { slot: "a", release: release(1) }, previous: { slot: "b" } });
  store.rollback();
  // Now the next release completes: slot a is replaced and there is no previous until it commits.
  const staged = await stage(store, 3);
  expect(staged.slot).toBe("a");
  expect(store.current()).toMatchObject({ active: { slot: "b" }, previous: null });
  expect(readSlot(store, "a")).toEqual(["qwen-3.gguf"]);
});

test("beginStaging for the same release again continues it; another release replaces it and drops its partials", async () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  const first = store.beginStaging(release(1));
  writeFileSync(`${first.path}.part`, "partial");
  const gen = store.current().generation;
  const reordered = Object.fromEntries(Object.entries(release(1)).reverse()) as SlotRelease;
  expect(store.beginStaging(reordered)).toEqual(first);
  expect(store.current().generation).toBe(gen);
  expect(existsSync(`${first.path}.part`)).toBe(true);
  store.beginStaging(release(2));
  expect(store.current().staging?.release).toEqual(release(2));
  expect(readdirSync(store.stagingDir)).toEqual([]);
});

test("illegal transitions are refused with typed reasons and leave the pointer unchanged", async () => {
  const fresh = SlotStore.open(join(tmp(), "slots"), { clock });
  await install(fresh, 1);
  refused(() => fresh.commit(), "no_pending_switch", fresh);
  refused(() => fresh.switchTo("a"), "already_active", fresh);
  refused(() => fresh.switchTo("b"), "not_staged", fresh);
  refused(() => fresh.rollback(), "no_previous", fresh);
  await expect(fresh.finishStaging()).rejects.toMatchObject({ reason: "not_staging" });
  const target = fresh.beginStaging(release(2));
  refused(() => fresh.switchTo("b"), "staging_in_progress", fresh);
  writeFileSync(target.path, releaseBytes(2).subarray(1));
  await expect(fresh.finishStaging()).rejects.toMatchObject({ reason: "staged_file_invalid", code: "conflict" });
  const flipped = releaseBytes(2);
  flipped[0]! ^= 1;
  writeFileSync(target.path, flipped);
  await expect(fresh.finishStaging({ verifySha256: true })).rejects.toMatchObject({ reason: "staged_file_invalid" });
  writeFileSync(target.path, releaseBytes(2));
  await fresh.finishStaging();
  fresh.switchTo("b");
  refused(() => fresh.beginStaging(release(3)), "switch_pending", fresh);
  refused(() => fresh.switchTo("a"), "switch_pending", fresh);
  expect(fresh.commit()).toMatchObject({ active: { slot: "b" }, previous: { slot: "a" } });
});

test("a release naming a path outside its slot, or of an unknown kind, is refused naming the field", () => {
  const store = SlotStore.open(join(tmp(), "slots"), { clock });
  for (const [over, field] of [
    [{ file: "../escape.gguf" }, "file"],
    [{ file: "sub/dir.gguf" }, "file"],
    [{ file: ".." }, "file"],
    [{ kind: "firmware" }, "kind"],
    [{ sha256: "xyz" }, "sha256"],
  ] as const) {
    let err: { code?: string; field?: string } = {};
    try {
      store.beginStaging({ ...release(1), ...over } as SlotRelease);
    } catch (e) {
      err = e as typeof err;
    }
    expect({ code: err.code, field: err.field }).toEqual({ code: "invalid_request", field });
  }
  expect(store.current().phase).toBe("empty");
});

test("state survives a reopen, including a switch pending its health check", async () => {
  const root = join(tmp(), "slots");
  const store = SlotStore.open(root, { clock });
  await install(store, 1);
  const staged = await stage(store, 2);
  store.switchTo(staged.slot);
  writeFileSync(join(root, `${POINTER_FILE}.deadbeef.tmp`), "{"); // a write a crash interrupted
  const reopened = SlotStore.open(root, { clock });
  expect(reopened.current()).toEqual(store.current());
  expect(reopened.current().phase).toBe("pending");
  expect(readdirSync(root).sort()).toEqual(["a", "b", POINTER_FILE, "staging"]);
  expect(reopened.rollback().active?.slot).toBe("a");
});

test("a crash after the file moved into its slot but before it was recorded: reopening completes the staging", async () => {
  const root = join(tmp(), "slots");
  const store = SlotStore.open(root, { clock });
  await install(store, 1);
  store.beginStaging(release(2));
  // What finishStaging leaves between its rename and its last pointer write.
  const p = readPointer(root);
  p.slots.b = { release: release(2), state: "staging", stagedAt: null, committedAt: null };
  p.generation++;
  writePointer(root, p);
  writeFileSync(join(root, "b", "qwen-2.gguf"), releaseBytes(2));
  const reopened = SlotStore.open(root, { clock });
  expect(reopened.current()).toMatchObject({ phase: "idle", staging: null, slots: { b: { state: "staged", stagedAt: nowMs } } });
  expect(reopened.switchTo("b").active?.release).toEqual(release(2));
});

test("a damaged pointer is reported as pointer_corrupt, not silently reset", () => {
  const root = join(tmp(), "slots");
  SlotStore.open(root, { clock });
  writeFileSync(join(root, POINTER_FILE), JSON.stringify({ format: 1, active: "c" }));
  expect(() => SlotStore.open(root, { clock })).toThrow(expect.objectContaining({ reason: "pointer_corrupt" }));
  writeFileSync(join(root, POINTER_FILE), "{ torn");
  expect(() => SlotStore.open(root, { clock })).toThrow(/not a valid slot pointer/);
});

test("LoRA adapters use the same store in their own directory", async () => {
  const store = SlotStore.open(join(tmp(), "lora", "support-tone"), { clock });
  const staged = await stage(store, 7, "lora");
  expect(staged.release.kind).toBe("lora");
  store.switchTo(staged.slot);
  expect(store.commit().active).toMatchObject({ slot: "a", release: { kind: "lora", version: "1.7.0" } });
});
