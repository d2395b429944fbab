/**
 * The OTA agent inside a running server (runtime/server.ts calls createOta once per start):
 * recovery before the model loads, the admin UpdateService, the /metrics state, the fleet
 * command hooks (ota.check, ota.rollback), the endpoint file the CLI finds the box by, and the
 * periodic checks once the model serves.
 */
import type { UpdateService } from "../../runtime/admin/updates.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Config } from "../../runtime/config/schema.ts";
import type { ModelHost } from "../../runtime/engine/model-host.ts";
import type { LicenseState } from "../../runtime/license/state.ts";
import { HearthError } from "../../runtime/errors.ts";
import { readTrustedTime } from "../../runtime/license/trusted-time.ts";
import type { Logger } from "../../runtime/log.ts";
import type { Db } from "../../runtime/store/db.ts";
import { pauseHookFromEnv } from "./pause-hook.ts";
import { removeEndpoint, writeEndpoint } from "./endpoint.ts";
import { Serving, type PrimaryModels } from "./serving.ts";
import { updateService, statusView } from "./service.ts";
import { Updater, type UpdaterDeps } from "./updater.ts";

/** What tests (and the lead's telemetry routing) may pass to startServer for OTA. */
export type OtaServerOptions = Partial<Pick<UpdaterDeps, "fetch" | "timers" | "random" | "onEvent" | "hook" | "seams">>;

export interface OtaParts {
  config: Config;
  db: Db;
  dataDir: string;
  clock: Clock;
  logger: Logger;
  deviceId: string;
  runtimeVersion: string;
  models: ModelHost;
  licensed: Promise<{ state: LicenseState }>;
  /** The primary model's loader, once it serves (server.ts sets it in loadEngine). */
  primary: () => PrimaryModels | null;
  led: (updating: boolean) => void;
  options?: OtaServerOptions;
}

/** What fleet commands call (runtime/fleet/commands, kinds ota.check and ota.rollback). */
export interface OtaCommandHooks {
  check(args: { apply: boolean }): Promise<Record<string, unknown>>;
  rollback(args: { version?: string; adapter?: string }): Promise<Record<string, unknown>>;
}

export interface Ota {
  updater: Updater;
  service: UpdateService;
  commands: OtaCommandHooks;
  /** For /metrics; null on a box that has never been configured for updates. */
  metrics(): { state: string } | null;
  /** The base model and adapters to serve at start (null: the factory model). */
  boot: ReturnType<Updater["bootModels"]>;
  listening(url: string): void;
  /** Once the primary serves: resume and schedule. */
  start(): void;
  stop(): Promise<void>;
}

export function createOta(parts: OtaParts): Ota {
  const o = parts.options ?? {};
  const updater = new Updater({
    config: parts.config.ota,
    dataDir: parts.dataDir,
    db: parts.db,
    clock: parts.clock,
    logger: parts.logger,
    deviceId: parts.deviceId,
    groups: parts.config.telemetry.groups,
    runtimeVersion: parts.runtimeVersion,
    license: async () => {
      // license/state.ts is the server's lazy import too (loadLicense): it is loaded by now.
      const [{ state }, { updateChannelFor }] = await Promise.all([parts.licensed, import("../../runtime/license/state.ts")]);
      return { gate: state.gate, channel: updateChannelFor(state) };
    },
    trustedNow: () => readTrustedTime(parts.db, parts.clock, parts.config.license.clockToleranceSeconds).now,
    serving: new Serving(parts.models, parts.primary, parts.logger),
    led: parts.led,
    ...o,
    hook: o.hook ?? pauseHookFromEnv(process.env, parts.dataDir),
  });
  const factory = () => parts.primary()?.factoryPath ?? null;
  const view = () => statusView(updater, factory);
  return {
    updater,
    // A box without a repository answers 501, as a runtime without OTA did: the admin page then
    // says plainly that updates are not available instead of offering buttons that cannot work.
    service: updater.enabled ? updateService(updater, factory) : notConfigured(),
    commands: {
      async check({ apply }) {
        await updater.check();
        const found = updater.status().lastCheck;
        if (apply && found?.outcome === "available" && found.release) await updater.apply({ release: `${found.release.name}@${found.release.version}` });
        return summary(view());
      },
      async rollback({ version, adapter }) {
        if (version !== undefined) await updater.apply({ release: adapter, allowRollbackTo: version });
        else await updater.rollback({ adapter });
        return summary(view());
      },
    },
    metrics: () => {
      const { state } = updater.status();
      return updater.enabled || state !== "idle" ? { state } : null;
    },
    boot: updater.bootModels(),
    listening: (url) => writeEndpoint(parts.dataDir, { url, pid: process.pid }),
    start: () => updater.start(),
    stop: async () => {
      removeEndpoint(parts.dataDir);
      await updater.stop();
    },
  };
}

function notConfigured(): UpdateService {
  const refuse = () => {
    throw new HearthError("not_implemented", "over-the-air updates are not configured on this box (set ota.repo and ota.releaseKeys); it keeps serving its current model");
  };
  return { state: refuse, check: async () => refuse(), apply: async () => refuse(), rollback: async () => refuse() };
}

/** A fleet ack's result: small, no paths. */
function summary(v: ReturnType<typeof statusView>): Record<string, unknown> {
  return { state: v.state, current: v.current, available: v.available, progress: v.progress, reason: v.record.reason, lastCheck: v.record.lastCheck };
}
