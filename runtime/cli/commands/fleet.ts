import { createHash } from "node:crypto";
import { hostname } from "node:os";
import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { intFlag, requiredFlag, stringFlag } from "../run.ts";
import { table } from "../output.ts";
import { HearthError } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { createLogger } from "../../log.ts";
import { COLLECTOR_SHARE } from "../../telemetry/topics.ts";
import { parseTimeFlag } from "../../license/issue.ts";
import { openFleetStore } from "../../fleet/collector/open-store.ts";
import { DEFAULT_SESSION_EXPIRY_SECONDS, startCollector } from "../../fleet/collector/collector.ts";
import { devicesReport } from "../../fleet/collector/devices-report.ts";
import { auditCsv, buildFleetAudit } from "../../fleet/collector/audit-report.ts";
import { parseSeatsFlag, readSeatsFile } from "../../fleet/collector/seats.ts";
import type { FleetStore } from "../../fleet/collector/store.ts";

const DB_OPTION = { db: { type: "string", value: "FILE|URL", description: "The fleet store: a SQLite file, or a postgres:// URL shared by several collectors" } } as const;

async function withStore<T>(db: string, fn: (store: FleetStore) => Promise<T>): Promise<T> {
  const store = await openFleetStore(db, { create: false });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Stable across restarts (the broker keeps the session under it), distinct per host, share and store. */
function defaultClientId(share: string, db: string): string {
  return `hearth-collector-${hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40)}-${share}-${createHash("sha256").update(db).digest("hex").slice(0, 8)}`;
}

const collectCommand: Command = {
  path: ["fleet", "collect"],
  summary: "Subscribe to the fleet's telemetry and store devices, health, usage, checkpoints and acks (runs until SIGINT/SIGTERM)",
  options: {
    broker: { type: "string", value: "URL", description: "mqtt://host:port or mqtts://host:port" },
    ...DB_OPTION,
    share: { type: "string", value: "NAME", description: `Shared subscription group; collectors in one group split the load (default ${COLLECTOR_SHARE})` },
    "no-share": { type: "boolean", description: "Subscribe plainly, not shared: for a lone collector on Mosquitto, which forgets shared subscriptions when it restarts" },
    "client-id": { type: "string", value: "ID", description: "MQTT client id, stable across restarts (default from host, share and --db; give each collector on one host its own)" },
    "session-expiry": { type: "string", value: "SECONDS", description: `How long the broker queues messages for this collector while it is away (default ${DEFAULT_SESSION_EXPIRY_SECONDS})` },
    ca: { type: "string", value: "FILE", description: "CA certificate (PEM) for mqtts://" },
    cert: { type: "string", value: "FILE", description: "Client certificate (PEM)" },
    key: { type: "string", value: "FILE", description: "Client private key (PEM)" },
    username: { type: "string", value: "NAME", description: "Broker user name" },
    password: { type: "string", value: "TEXT", description: "Broker password (or HEARTH_FLEET_BROKER_PASSWORD, kept out of the process list)" },
    retire: {
      type: "boolean",
      description: "Retire the collector with this client id: store what its session still holds, end the session, exit (the broker keeps routing a share to a session that is away)",
    },
  },
  async run(ctx) {
    const broker = requiredFlag(ctx, "broker");
    if (!/^mqtts?:\/\//.test(broker)) throw new HearthError("invalid_request", `--broker: ${JSON.stringify(broker)} is not an mqtt:// or mqtts:// URL`, { field: "broker" });
    const db = requiredFlag(ctx, "db");
    if (ctx.values["no-share"] && ctx.values.share !== undefined) throw new HearthError("invalid_request", "--share and --no-share: pick one", { field: "share" });
    const share = ctx.values["no-share"] ? null : (stringFlag(ctx, "share") ?? COLLECTOR_SHARE);
    if (share !== null && !/^[A-Za-z0-9_-]+$/.test(share)) throw new HearthError("invalid_request", `--share: ${JSON.stringify(share)} may hold letters, digits, - and _ only`, { field: "share" });
    const sessionExpirySeconds = intFlag(ctx.values, "session-expiry") ?? DEFAULT_SESSION_EXPIRY_SECONDS;
    const logger = createLogger({ level: "info" });
    const store = await openFleetStore(db, { create: true });
    let collector;
    try {
      collector = startCollector({
        broker,
        store,
        share,
        clientId: stringFlag(ctx, "client-id") ?? defaultClientId(share ?? "plain", db),
        sessionExpirySeconds,
        caFile: stringFlag(ctx, "ca"),
        certFile: stringFlag(ctx, "cert"),
        keyFile: stringFlag(ctx, "key"),
        username: stringFlag(ctx, "username"),
        password: stringFlag(ctx, "password") ?? ctx.io.env.HEARTH_FLEET_BROKER_PASSWORD,
        clock: systemClock,
        logger,
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    const running = collector;
    if (ctx.values.retire) {
      try {
        await running.retire();
      } finally {
        await store.close();
      }
      ctx.io.out(`Retired ${running.clientId}: its session is ended; stored ${running.stats.stored} messages it still held`);
      return 0;
    }
    ctx.io.out(`Collecting from ${broker} (${share === null ? "plain subscription" : `share ${share}`}, client id ${collector.clientId}) into ${store.location}`);
    const report = setInterval(() => logger.info("collector stats", { ...running.stats }), 60_000);
    let failure: Error | null = null;
    const stopped = await new Promise<number>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info("stopping", { signal });
        clearInterval(report);
        void running
          .stop()
          .then(() => store.close())
          .then(() => {
            ctx.io.out(`Stopped: ${JSON.stringify(running.stats)}`);
            resolve(0);
          });
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      // A collector that cannot subscribe (refused, or a share asked of a 3.1.1 broker) collects nothing: it stops and says why.
      running.subscribed.catch((err: Error) => {
        failure = err;
        shutdown("subscribe failed");
      });
    });
    if (failure) throw failure;
    return stopped;
  },
};

const yesNo = (b: boolean | null) => (b === null ? "?" : b ? "online" : "offline");

const devicesCommand: Command = {
  path: ["fleet", "devices"],
  summary: "Devices the collector has heard of: online, last seen, version, models, tier, license, latest health",
  options: { ...DB_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const devices = await withStore(requiredFlag(ctx, "db"), devicesReport);
    if (ctx.values.json) ctx.io.out(JSON.stringify(devices));
    else if (devices.length === 0) ctx.io.out("No devices yet.");
    else {
      ctx.io.out(
        table(
          ["device", "fleet", "state", "last seen", "version", "models", "tier", "license"],
          devices.map((d) => [d.deviceId, d.fleet, yesNo(d.online), d.lastSeen, d.version ?? "-", d.models.join(",") || "-", d.tier ?? "-", d.licenseId ?? "-"]),
        ),
      );
    }
    return 0;
  },
};

const auditCommand: Command = {
  path: ["fleet", "audit"],
  summary: "License audit of a period: devices and tokens per license and device, unlicensed devices, licenses over their seats, ledger chain breaks",
  options: {
    ...DB_OPTION,
    since: { type: "string", value: "DATE", description: "Start of the period, by the devices' message times (YYYY-MM-DD is midnight UTC; default: the beginning)" },
    until: { type: "string", value: "DATE", description: "End of the period, exclusive (default: now)" },
    seats: { type: "string", value: "LIC=N,…", description: "Devices each license allows (a license not listed allows 1, as fingerprint-bound)" },
    "seats-file": { type: "string", value: "FILE", description: 'The same as JSON: {"LICENSE-ID": N, …}' },
    csv: { type: "boolean", description: "Print one CSV row per device" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const since = ctx.values.since === undefined ? 0 : parseTimeFlag(requiredFlag(ctx, "since"), "since");
    const until = ctx.values.until === undefined ? systemClock.now() : parseTimeFlag(requiredFlag(ctx, "until"), "until");
    if (until <= since) throw new HearthError("invalid_request", "--until must be after --since", { field: "until" });
    if (ctx.values.json && ctx.values.csv) throw new HearthError("invalid_request", "--json and --csv: pick one", { field: "csv" });
    const seats = new Map<string, number>();
    const seatsFile = stringFlag(ctx, "seats-file");
    if (seatsFile !== undefined) for (const [k, v] of readSeatsFile(seatsFile)) seats.set(k, v);
    const seatsFlag = stringFlag(ctx, "seats");
    if (seatsFlag !== undefined) for (const [k, v] of parseSeatsFlag(seatsFlag)) seats.set(k, v);
    const audit = await withStore(requiredFlag(ctx, "db"), (store) => buildFleetAudit(store, { since, until, seats }));

    if (ctx.values.json) ctx.io.out(JSON.stringify(audit));
    else if (ctx.values.csv) ctx.io.out(auditCsv(audit));
    else {
      const t = audit.totals;
      const out = [`Fleet audit ${audit.period.since} to ${audit.period.until}: ${t.devices} devices, ${t.licenses} licenses, ${t.requests} requests, ${t.tokens} tokens`];
      if (audit.licenses.length > 0) {
        out.push("", table(["license", "devices", "seats", "requests", "tokens"], audit.licenses.map((l) => [l.licenseId, l.devices.length, `${l.seats}${l.seatsSource === "default" ? " (default)" : ""}${l.overSeats ? " OVER" : ""}`, l.requests, l.tokens])));
      }
      if (audit.devices.length > 0) {
        out.push("", table(["device", "license", "tier", "requests", "prompt", "completion", "tokens"], audit.devices.map((d) => [d.deviceId, d.licenseIds.join(",") || "-", d.tiers.join(","), d.requests, d.promptTokens, d.completionTokens, d.tokens])));
      }
      out.push("", audit.unlicensed.length === 0 ? "Devices without a valid license: none" : `Devices without a valid license: ${audit.unlicensed.map((u) => `${u.deviceId} (${u.reason === "community_tier" ? "community" : "no license id"}, ${u.tokens} tokens)`).join(", ")}`);
      out.push(audit.overSeat.length === 0 ? "Licenses over their seats: none" : `Licenses over their seats: ${audit.overSeat.map((o) => `${o.licenseId} on ${o.devices.length} devices, allows ${o.seats}`).join("; ")}`);
      out.push(audit.chainProblems.length === 0 ? "Ledger chain problems: none" : `Ledger chain problems (${audit.chainProblems.length}):`);
      for (const p of audit.chainProblems) out.push(`  ${p.deviceId} ${p.at} ${p.kind}: ${p.detail}`);
      ctx.io.out(out.join("\n"));
    }
    return 0;
  },
};

/** `hearth fleet collect|devices|audit`: the fleet collector and its reports. */
export const fleetCollectorCommands: Command[] = [collectCommand, devicesCommand, auditCommand];
