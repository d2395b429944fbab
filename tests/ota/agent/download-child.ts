/**
 * A download as its own process, for the SIGKILL test: downloads URL to DEST and prints the
 * result as one JSON line (or the error's reason).
 *
 *   bun tests/ota/agent/download-child.ts URL SIZE SHA256 DEST
 */
import { systemClock } from "../../../runtime/clock.ts";
import { createLogger } from "../../../runtime/log.ts";
import { systemTimers } from "../../../runtime/telemetry/timers.ts";
import { downloadFile } from "../../../ota/agent/download.ts";
import { isOtaAgentError } from "../../../ota/agent/errors.ts";

const [url, size, sha256, dest] = process.argv.slice(2);
if (!url || !size || !sha256 || !dest) throw new Error("usage: download-child.ts URL SIZE SHA256 DEST");

const deps = { fetch: (u: string, i: RequestInit) => fetch(u, i), clock: systemClock, timers: systemTimers, logger: createLogger({ level: "warn" }) };
try {
  const result = await downloadFile({ urls: [url], size: Number(size), sha256, dest }, deps, { marginBytes: 0, backoff: { minMs: 10, maxMs: 50 } });
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (err) {
  process.stdout.write(JSON.stringify({ error: isOtaAgentError(err) ? err.reason : String(err) }) + "\n");
  process.exitCode = 1;
}
