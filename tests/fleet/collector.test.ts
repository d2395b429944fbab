import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import { devicesReport } from "../../runtime/fleet/collector/devices-report.ts";
import { ReceiptMessageSchema, type ReceiptMessage } from "../../runtime/telemetry/messages.ts";
import { deviceTopic } from "../../runtime/telemetry/topics.ts";
import { validate } from "../../runtime/validation.ts";
import { FLEET, ack, audit, checkpoint, connectDevice, deviceKey, health, state, usage, waitFor } from "./fixtures.ts";
import { collector, countOf, rows, tempDir, removeTempDirs, sharedSubscriptions } from "./helpers.ts";

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
  removeTempDirs();
});

describe("fleet collector", () => {
  test("stores what devices send, counts malformed payloads, and acknowledges everything", async () => {
    const dir = tempDir();
    const clientId = "collector-ack-check";
    const share = sharedSubscriptions ? "ack-check" : null;
    const c = await collector(broker.url, { clientId, share, store: openSqliteStore(join(dir, "fleet.db"), { create: true }) });
    const key = deviceKey();
    const box = key.deviceId;
    const dev = await connectDevice(broker.url, box);
    await dev.send("state", state(box, "online", { version: "1.2.3", models: ["demo-tiny", "qwen"] }), { retain: true });
    await dev.send("health", health(box));
    for (const seq of [1, 2, 3]) await dev.send("usage", usage(box, seq));
    await dev.send("audit", audit(box, checkpoint(key, box, 1000)));
    await dev.send("cmd/ack", ack(box, "cmd-123"));
    await dev.send("usage", "{not json");
    await dev.send("usage", { ...usage(box, 4), seq: -1 });
    await dev.send("usage", usage("box-2", 5)); // names another device than its topic
    await dev.send("cmd", { kind: "config.set" }); // a command to the box: not telemetry
    // 11 messages; with a share, the retained state twice (the shared and the state subscription).
    const deliveries = sharedSubscriptions ? 12 : 11;
    await waitFor("all messages handled", () => c.stats.received === deliveries && c.stats.malformed === 3 && c.stats.ignored === 1);
    await waitFor("rows stored", async () => (await countOf(c.store, "fleet_usage")) === 3);
    expect(await countOf(c.store, "fleet_health")).toBe(1);
    expect(await countOf(c.store, "fleet_checkpoints")).toBe(1);
    expect(await rows(c.store, "SELECT command_id, outcome FROM fleet_command_acks")).toEqual([{ command_id: "cmd-123", outcome: "done" }]);
    const [d] = await devicesReport(c.store);
    expect(d).toMatchObject({ deviceId: box, online: true, version: "1.2.3", models: ["demo-tiny", "qwen"], tier: "smb", licenseId: "LIC-A", publicKey: key.publicKey });
    await dev.send("state", "", { retain: true }); // clear the retained state for the other tests
    await waitFor("the clearing handled", () => c.stats.ignored === (sharedSubscriptions ? 3 : 2));
    await c.close({ keepSession: true });
    await dev.endAsync();

    // Everything was acknowledged, malformed included: the same session gets nothing again.
    const again = await collector(broker.url, { clientId, share, store: openSqliteStore(join(dir, "fleet.db"), { create: true }), retainedState: false });
    await Bun.sleep(500);
    expect(again.stats.received).toBe(0);
    await again.close();
  }, 20_000);

  test("after each commit a device gets receipts naming its usage and audit messages, a redelivery too; health and malformed ones get none", async () => {
    const c = await collector(broker.url);
    const key = deviceKey();
    const box = key.deviceId;
    const dev = await connectDevice(broker.url, box);
    await dev.subscribeAsync(deviceTopic(FLEET, box, "receipt"), { qos: 1 });
    const receipts: ReceiptMessage[] = [];
    dev.on("message", (_topic, payload) => receipts.push(validate(ReceiptMessageSchema, JSON.parse(payload.toString()))));
    const named = () => receipts.flatMap((r) => r.ids);
    const [u1, u2, a] = [usage(box, 1), usage(box, 2), audit(box, checkpoint(key, box, 20))];
    await dev.send("usage", u1);
    await dev.send("usage", u2);
    await dev.send("audit", a);
    await dev.send("health", health(box));
    await dev.send("usage", "{not json");
    await waitFor("receipts for three messages", () => named().length === 3 && c.stats.malformed === 1);
    expect(new Set(named())).toEqual(new Set([u1.id, u2.id, a.id]));
    expect(receipts.every((r) => r.device === box && r.fleet === FLEET)).toBe(true);

    await dev.send("usage", u1); // redelivered: stored once, receipted again
    await waitFor("the redelivery receipted", () => named().filter((id) => id === u1.id).length === 2);
    // The collector's own receipts, come back through its wildcard, are not telemetry.
    expect(c.stats).toMatchObject({ received: 6, stored: 4, duplicates: 1, malformed: 1, ignored: 0 });
    expect(c.stats.receipts).toBe(receipts.length);
    await dev.endAsync();
    await c.close();
  }, 20_000);

  test("a message sent twice with one id is counted once", async () => {
    const c = await collector(broker.url);
    const dev = await connectDevice(broker.url, "box-dup");
    const m = usage("box-dup", 1, { prompt: 11, completion: 22 });
    await dev.send("usage", m);
    await dev.send("usage", m);
    await dev.send("usage", usage("box-dup", 2));
    await waitFor("3 deliveries stored", () => c.stats.stored + c.stats.duplicates === 3);
    expect(c.stats).toMatchObject({ received: 3, stored: 2, duplicates: 1 });
    expect(await rows(c.store, "SELECT seq, prompt_tokens FROM fleet_usage ORDER BY seq")).toEqual([
      { seq: 1, prompt_tokens: 11 },
      { seq: 2, prompt_tokens: 100 },
    ]);
    await dev.endAsync();
    await c.close();
  }, 20_000);

  test("online and offline from the retained state and the Last Will, also for a collector that starts later", async () => {
    const c = await collector(broker.url);
    const will = state("box-lwt", "offline");
    const dev = await connectDevice(broker.url, "box-lwt", { will });
    await dev.send("state", state("box-lwt", "online"), { retain: true });
    await waitFor("online", async () => (await devicesReport(c.store))[0]?.online === true);
    dev.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await waitFor("offline from the will", async () => (await devicesReport(c.store))[0]?.online === false);
    expect(await rows(c.store, "SELECT message_id FROM fleet_state WHERE state = 'offline'")).toEqual([{ message_id: will.id }]);
    await c.close();

    // A shared subscription gets no retained messages; the collector's own state subscription does.
    const late = await collector(broker.url);
    await waitFor("retained offline", async () => (await devicesReport(late.store))[0]?.online === false);
    expect(await rows(late.store, "SELECT retained FROM fleet_state")).toEqual([{ retained: 1 }]);
    await late.close();
    dev.end(true);
    const cleaner = await connectDevice(broker.url, "box-lwt");
    await cleaner.send("state", "", { retain: true });
    await cleaner.endAsync();
  }, 20_000);

  test("connects over TLS with a CA and with a user name and password", async () => {
    const tls = await collector(broker.tlsUrl, { caFile: broker.caFile });
    const auth = await collector(broker.authUrl, { username: broker.user.username, password: broker.user.password });
    const dev = await connectDevice(broker.url, "box-tls");
    await dev.send("usage", usage("box-tls", 1));
    await waitFor("both got it", async () => (await countOf(tls.store, "fleet_usage")) === 1 && (await countOf(auth.store, "fleet_usage")) === 1);
    await dev.endAsync();
    await tls.close();
    await auth.close();
  }, 20_000);
});
