/**
 * The fault test of the issue: the broker is killed and restarted in the middle of a burst of
 * 10,000 usage messages from one box. A plain subscriber (persistent session, QoS 1) must end with
 * every id, none missing, in order once duplicates are dropped (the collector dedupes by id).
 */
import { afterAll, expect, test } from "bun:test";
import { startBroker } from "../helpers/mosquitto.ts";
import { removeTempDirs, subscribe, testBox, usageMessage, waitFor } from "./helpers.ts";

afterAll(removeTempDirs);

const TOTAL = 10_000;
const CHUNK = 500;

test("broker killed mid-burst of 10,000 usage messages: all delivered, in order per device", async () => {
  const broker = await startBroker();
  const box = testBox({ config: { broker: broker.url }, deps: { backoff: { minMs: 50, maxMs: 300 } } });
  const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    box.telemetry.start();
    await waitFor(() => box.telemetry.status().connected, "the connection");
    const seqs = () => sub.on("usage").map((m) => m.seq as number);
    const t0 = Date.now();
    for (let seq = 1; seq <= TOTAL; seq += CHUNK) {
      box.telemetry.enqueueMany(Array.from({ length: CHUNK }, (_, i) => ({ channel: "usage" as const, payload: usageMessage(box, seq + i) })));
      await Bun.sleep(1); // the drain runs between chunks, as it would between producers' commits
    }
    await waitFor(() => sub.messages.length >= TOTAL / 4, "a quarter of the burst");
    const atKill = { delivered: sub.messages.length, queued: box.telemetry.status().outbox.total };
    await broker.kill();
    await Bun.sleep(100);
    await broker.restart();
    await waitFor(() => new Set(seqs()).size >= TOTAL, `all ${TOTAL} usage messages`, 45_000);
    expect(atKill.queued).toBeGreaterThan(0);
    console.log(`burst: killed at ${atKill.delivered} delivered / ${atKill.queued} queued; ${Date.now() - t0} ms`);
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    for (const s of seqs()) if (!seen.has(s)) (seen.add(s), firstSeen.push(s));
    expect(firstSeen).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    console.log(`burst: ${seqs().length} deliveries for ${TOTAL} messages (${seqs().length - TOTAL} duplicates)`);
    await waitFor(() => box.telemetry.status().outbox.total === 0, "the outbox to empty");
  } finally {
    await box.telemetry.stop();
    box.db.close();
    await sub.end();
    await broker.stop();
  }
}, 60_000);
