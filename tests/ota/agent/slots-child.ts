/**
 * Drives a slot store through update cycles forever (stage, switch, commit or roll back), for
 * the crash test that SIGKILLs it. Release n's bytes derive from n, so a restarted child can
 * re-create a file it was staging. Prints "ready" once the store is open.
 *
 *   bun tests/ota/agent/slots-child.ts ROOT
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { systemClock } from "../../../runtime/clock.ts";
import { SlotStore } from "../../../ota/agent/slots.ts";
import type { SlotRelease } from "../../../ota/agent/slots-schema.ts";
import { sha256 } from "./helpers.ts";
import { releaseBytes } from "./slot-fixture.ts";

const root = process.argv[2];
if (!root) throw new Error("usage: slots-child.ts ROOT");

const store = SlotStore.open(root, { clock: systemClock });
process.stdout.write("ready\n");

function release(n: number): SlotRelease {
  const bytes = releaseBytes(n);
  return { kind: "base-model", name: "crash-model", version: `1.0.${n}`, file: `model-${n}.gguf`, sha256: sha256(bytes), size: bytes.byteLength };
}

/** What the downloader does: the bytes in a .part, fsynced, renamed to the staged path. */
function download(path: string, n: number): void {
  const fd = openSync(`${path}.part`, "w");
  const bytes = releaseBytes(n);
  for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(`${path}.part`, path);
}

let n = Math.max(0, ...(["a", "b"] as const).map((s) => Number(store.current().slots[s]?.release.version.split(".")[2] ?? 0))) + 1;
for (;;) {
  const st = store.current();
  const inactive = store.inactiveSlot();
  if (st.phase === "pending") {
    if (n % 3 === 0) store.rollback();
    else store.commit();
  } else if (st.phase === "staging") {
    download(st.staging!.path, Number(st.staging!.release.version.split(".")[2]));
    await store.finishStaging();
  } else if (st.slots[inactive]?.state === "staged") {
    store.switchTo(inactive);
  } else if (n % 7 === 0 && st.previous?.state === "committed") {
    store.rollback();
    n++;
  } else {
    const target = store.beginStaging(release(n++));
    download(target.path, n - 1);
    await store.finishStaging();
  }
}
