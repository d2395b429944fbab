/**
 * The admin API on a real SQLite database in a temp dir, mounted in the runtime's real Hono app
 * (so errors go through its one mapping), called with app.request(). A small cookie jar keeps the
 * session like a browser would. Tests that need a model use tests/helpers/server.ts instead.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdmin, type AdminServerOptions } from "../../runtime/admin/wire.ts";
import { systemClock, type Clock } from "../../runtime/clock.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { ModelHost } from "../../runtime/engine/model-host.ts";
import { createApp } from "../../runtime/http/app.ts";
import { loadOrCreateDeviceIdentity } from "../../runtime/identity/device-key.ts";
import { LogRing, silentLogger, teeLogger } from "../../runtime/log.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { openDatabase } from "../../runtime/store/db.ts";
import { UsageLedger } from "../../runtime/store/usage-ledger.ts";
import { systemHealthSampler } from "../../runtime/telemetry/health.ts";
import { Telemetry } from "../../runtime/telemetry/telemetry.ts";
import { TEST_FINGERPRINT } from "../helpers/server.ts";

export const API = "/admin/api";

export interface Call {
  status: number;
  headers: Headers;
  json: any;
}

export function adminHarness(opts: { clock?: Clock; options?: AdminServerOptions; flags?: Record<string, unknown> } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-admin-"));
  const config = loadConfig({ flags: { dataDir, ...opts.flags } });
  const clock = opts.clock ?? systemClock;
  const db = openDatabase(dataDir);
  const identity = loadOrCreateDeviceIdentity(dataDir);
  const logs = new LogRing();
  const logger = teeLogger(silentLogger, logs);
  const keys = new ApiKeyStore(db, clock);
  const models = new ModelHost();
  const ledger = new UsageLedger(db, { signer: identity, clock });
  const telemetry = new Telemetry({ config: config.telemetry, db, deviceId: identity.deviceId, clock, logger, license: () => ({ tier: "community", licenseId: null }), version: "test" });
  const admin = createAdmin({
    db,
    clock,
    logger,
    logs,
    config,
    dataDir,
    deviceId: identity.deviceId,
    version: "test",
    keys,
    models,
    box: () => ({ board: null, license: null, primaryFit: null }),
    licensed: Promise.resolve({ fingerprint: TEST_FINGERPRINT }),
    telemetry: () => telemetry.status(),
    sampler: systemHealthSampler({ dataDir }),
    options: opts.options,
  });
  const app = createApp({ models, ledger, keys, clock, logger, maxTokens: 16, openInference: false, bodyLimitBytes: 1 << 20, admin: admin.app });

  let cookie: string | null = null;
  let csrf: string | null = null;

  /** A request as a browser with the jar's cookie (unless `headers.cookie` says otherwise). */
  async function call(method: string, path: string, init: { body?: unknown; raw?: string; headers?: Record<string, string>; csrf?: boolean } = {}): Promise<Call> {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (init.body !== undefined || init.raw !== undefined) headers["content-type"] = "application/json";
    if (csrf && init.csrf !== false && method !== "GET") headers["x-csrf-token"] = csrf;
    Object.assign(headers, init.headers);
    const res = await app.request(path.startsWith("/") ? path : `${API}/${path}`, {
      method,
      headers,
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) {
      const value = setCookie.split(";")[0]!;
      cookie = value.endsWith("=") ? null : value;
    }
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (json && typeof json === "object" && "csrfToken" in json) csrf = json.csrfToken;
    return { status: res.status, headers: res.headers, json };
  }

  /** The pairing code the box logged most recently. */
  const pairingCode = (): string => {
    const line = logs.recent().reverse().find((r) => r.msg.startsWith("pairing code: "));
    if (!line) throw new Error("no pairing code was logged");
    return line.msg.slice("pairing code: ".length);
  };

  return {
    dataDir,
    db,
    app,
    admin,
    keys,
    ledger,
    logs,
    clock,
    call,
    pairingCode,
    get cookie() {
      return cookie;
    },
    forget() {
      cookie = null;
      csrf = null;
    },
    /** Issues the first pairing code (as a start does) and pairs with `password`. */
    async pair(password = "correct horse battery") {
      await admin.start();
      const res = await call("POST", "pairing", { body: { code: pairingCode(), password } });
      if (res.status !== 200) throw new Error(`pairing failed: ${JSON.stringify(res.json)}`);
      return res;
    },
    close() {
      admin.stop();
      db.close();
    },
  };
}

export type AdminHarness = ReturnType<typeof adminHarness>;
