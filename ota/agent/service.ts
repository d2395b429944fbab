/**
 * The updater as the admin API's UpdateService (runtime/admin/updates.ts): its record in the
 * UpdatesState shape (state, current, available, progress 0..1, message) plus the details the
 * CLI and the fleet read (release, reason, lastCheck, installed).
 */
import { basename } from "node:path";
import type { UpdateService } from "../../runtime/admin/updates.ts";
import type { ApplyUpdateRequest, UpdatesState } from "../../runtime/admin/schemas/updates.ts";
import { servedAdapters, servedBase } from "./lines.ts";
import type { OtaRecord } from "./state.ts";
import type { Updater } from "./updater.ts";

export interface OtaStatusView extends UpdatesState {
  record: OtaRecord;
  installed: { base: { name: string; version: string; sha256?: string } | null; adapters: { name: string; version: string }[] };
  enabled: boolean;
}

export function statusView(updater: Updater, factoryModel: () => string | null): OtaStatusView {
  const record = updater.status();
  const base = servedBase(updater.lines, record);
  const adapters = servedAdapters(updater.lines, record, base).map(({ name, version }) => ({ name, version }));
  const factory = factoryModel();
  const p = record.progress;
  const available = record.lastCheck?.outcome === "available" && record.lastCheck.release ? `${record.lastCheck.release.name} ${record.lastCheck.release.version}` : null;
  return {
    state: record.state,
    current: base ? `${base.name} ${base.version}` : factory ? `factory model (${basename(factory)})` : null,
    available,
    progress: p && p.total > 0 ? Math.min(1, p.bytes / p.total) : null,
    message: record.reason?.message ?? record.lastCheck?.reason?.message ?? null,
    record,
    installed: { base: base ? { name: base.name, version: base.version, sha256: base.sha256 } : null, adapters },
    enabled: updater.enabled,
  };
}

export function updateService(updater: Updater, factoryModel: () => string | null): UpdateService {
  const view = () => statusView(updater, factoryModel);
  return {
    state: view,
    check: async () => (await updater.check(), view()),
    apply: async (req: ApplyUpdateRequest) => (await updater.apply({ release: req.release }), view()),
    rollback: async () => (await updater.rollback(), view()),
  };
}
