/**
 * What the box does with an update the last run left unfinished, before it loads a model. A switch
 * still pending at boot means the new model never passed its health check (the process died in
 * between): the pointer goes back, and the previous model serves. A download, verification or
 * staged release is left for the updater to resume once the box serves.
 */
import type { Clock } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/log.ts";
import type { OtaLines } from "./lines.ts";
import type { OtaStateStore } from "./state-store.ts";
import { describeRelease, type OtaRecord } from "./state.ts";

/** Rolls back every line whose switch is pending; returns the (possibly updated) record. */
export function recoverAtBoot(store: OtaStateStore, lines: OtaLines, clock: Clock, logger: Logger): OtaRecord {
  let record = store.load();
  if (committedBeforeCrash(record, lines)) {
    // The pointer committed and the process died before the record said so: the update is done.
    const r = record.release!;
    const done = r.kind === "base-model" ? { factory: false } : { adapterBases: { ...record.adapterBases, [r.name]: r.base! } };
    record = { ...record, ...done, state: "committed", since: new Date(clock.now()).toISOString(), progress: null, reason: null, skip: null, allowRollbackTo: null };
    store.save(record);
  }
  const interrupted = record.state === "switching" || record.state === "health-check";
  for (const line of lines.all()) {
    if (!line.slots.current().pending) continue;
    const status = line.slots.rollback();
    logger.warn("ota: a switch was pending at start; rolled back to the previous slot", { line: line.name, active: status.active?.release.version ?? "factory" });
  }
  if (interrupted) {
    const what = describeRelease(record.release) ?? "the release";
    record = {
      ...record,
      state: "rolled-back",
      since: new Date(clock.now()).toISOString(),
      progress: null,
      reason: { code: "interrupted", message: `the runtime stopped during the ${record.state} of ${what}: it never passed its health check, so the previous model serves` },
      skip: record.release ? { name: record.release.name, version: record.release.version } : record.skip,
    };
    store.save(record);
  } else if (record.state === "checking") {
    // A check is never persisted as such; an old runtime's record is brought to a resting state.
    record = { ...record, state: record.release ? "committed" : "idle" };
    store.save(record);
  }
  return record;
}

function committedBeforeCrash(record: OtaRecord, lines: OtaLines): boolean {
  const r = record.release;
  if (!r || (record.state !== "switching" && record.state !== "health-check")) return false;
  const status = lines.line(r.kind, r.name).current();
  return !status.pending && status.active?.state === "committed" && status.active.release.sha256 === r.sha256 && status.active.release.version === r.version;
}
