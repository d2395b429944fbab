/**
 * A box's telemetry as its own process, for the SIGKILL test: opens the data dir, starts telemetry
 * against the broker, optionally queues `count` usage messages, prints one JSON line and runs
 * until killed.
 *
 *   bun tests/telemetry/device-child.ts DATA_DIR BROKER_URL DEVICE_ID COUNT
 */
import { openDatabase } from "../../runtime/store/db.ts";
import { systemClock } from "../../runtime/clock.ts";
import { createLogger } from "../../runtime/log.ts";
import { Telemetry } from "../../runtime/telemetry/telemetry.ts";
import { telemetryConfig, usageMessage } from "./helpers.ts";

const [dataDir, broker, deviceId, countText] = process.argv.slice(2);
if (!dataDir || !broker || !deviceId) throw new Error("usage: device-child.ts DATA_DIR BROKER_URL DEVICE_ID COUNT");
const count = Number(countText ?? 0);

const db = openDatabase(dataDir);
const telemetry = new Telemetry({
  config: telemetryConfig({ broker, enabled: true, outboxMaxMessages: 100_000 }),
  db,
  deviceId,
  clock: systemClock,
  logger: createLogger({ level: "warn" }),
  license: () => ({ tier: "smb", licenseId: "lic-child" }),
  version: "0.0.0-child",
  backoff: { minMs: 50, maxMs: 300 },
});
telemetry.start();
for (let seq = 1; seq <= count; seq += 500) {
  const n = Math.min(500, count - seq + 1);
  telemetry.enqueueMany(Array.from({ length: n }, (_, i) => ({ channel: "usage" as const, payload: usageMessage({ telemetry }, seq + i) })));
}
process.stdout.write(JSON.stringify({ queued: count, depth: telemetry.status().outbox.total }) + "\n");
// Telemetry's own timers do not keep a process alive; this one does, until the test kills it.
setInterval(() => undefined, 1_000);
