/** What the admin API is built from; runtime/server.ts passes the running box's parts in. */
import type { Clock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import type { ModelHost } from "../engine/model-host.ts";
import type { Fingerprint } from "../identity/fingerprint-format.ts";
import type { LicenseState } from "../license/state.ts";
import type { Logger, LogRing } from "../log.ts";
import type { CandidateFit } from "../model/fit/schema.ts";
import type { ApiKeyStore } from "../store/api-keys.ts";
import type { Db } from "../store/db.ts";
import type { TelemetryStatus } from "../telemetry/telemetry.ts";
import type { AdminAuth } from "./admin-auth.ts";
import type { HealthCache } from "./health-cache.ts";
import type { UpdateService } from "./updates.ts";

/** Facts the server learns while it loads; each is null until known. */
export interface BoxFacts {
  board: { kind: string; name: string } | null;
  license: LicenseState | null;
  /** The memory fit of the primary model, computed at start. */
  primaryFit: CandidateFit | null;
}

export interface AdminDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  auth: AdminAuth;
  keys: ApiKeyStore;
  models: ModelHost;
  /** The configuration this server runs with. */
  config: Config;
  dataDir: string;
  deviceId: string;
  version: string;
  /** Clock.now() when the server started. */
  startedAt: number;
  health: HealthCache;
  logs: LogRing;
  box: () => BoxFacts;
  /** This box's fingerprint and the license state at start, once read. */
  licensed: Promise<{ fingerprint: Fingerprint }>;
  telemetry: { status(): TelemetryStatus };
  /** Restarts the server in-process (hearth serve's loop); absent: restart answers 501. */
  restart?: () => void;
  /** OTA updates; absent until the OTA issue provides one: the update routes answer 501. */
  updates?: UpdateService;
}
