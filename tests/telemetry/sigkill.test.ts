/**
 * The device process SIGKILLed with a non-empty outbox: what it had committed is on disk, the
 * broker publishes its Last Will, and after a restart everything is delivered, in order.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startBroker } from "../helpers/mosquitto.ts";
import { DB_FILE } from "../../runtime/store/db.ts";
import { removeTempDirs, subscribe, tmp, waitFor } from "./helpers.ts";

afterAll(removeTempDirs);

const CHILD = join(import.meta.dir, "device-child.ts");
const COUNT = 2_000;

function spawnDevice(dataDir: string, broker: string, deviceId: string, count: number) {
  const proc = Bun.spawn([process.execPath, CHILD, dataDir, broker, deviceId, String(count)], { stdout: "pipe", stderr: "inherit" });
  const line = (async () => {
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the device process exited: ${out}`);
      out += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return JSON.parse(out.split("\n")[0]!) as { queued: number; depth: number };
  })();
  return { proc, line };
}

test("SIGKILL with a non-empty outbox: after restart every message is delivered, in order", async () => {
  const broker = await startBroker();
  const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion });
  const dataDir = tmp();
  const deviceId = `hd-sigkill${process.pid}`;
  const mine = () => sub.on("usage").filter((m) => m.device === deviceId).map((m) => m.seq as number);
  try {
    const first = spawnDevice(dataDir, broker.url, deviceId, COUNT);
    expect(await first.line).toEqual({ queued: COUNT, depth: COUNT });
    await waitFor(() => mine().length > 0, "the first deliveries");
    first.proc.kill("SIGKILL");
    await first.proc.exited;

    // The broker saw the connection die: the Last Will, retained.
    await waitFor(() => sub.on("state").some((m) => m.device === deviceId && m.state === "offline"), "the Last Will");
    const db = new Database(join(dataDir, DB_FILE), { readonly: true });
    const left = db.prepare("SELECT count(*) FROM telemetry_outbox").pluck().get() as number;
    db.close();
    expect(left).toBeGreaterThan(0);
    const before = new Set(mine()).size;
    expect(before + left).toBeGreaterThanOrEqual(COUNT);

    const second = spawnDevice(dataDir, broker.url, deviceId, 0);
    await second.line;
    await waitFor(() => new Set(mine()).size >= COUNT, `all ${COUNT} messages`, 30_000);
    second.proc.kill("SIGTERM");
    await second.proc.exited;

    const firstSeen: number[] = [];
    const seen = new Set<number>();
    for (const s of mine()) if (!seen.has(s)) (seen.add(s), firstSeen.push(s));
    expect(firstSeen).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(sub.on("state").some((m) => m.device === deviceId && m.state === "online" && m.licenseId === "lic-child")).toBe(true);
  } finally {
    await sub.end();
    await broker.stop();
  }
}, 60_000);
