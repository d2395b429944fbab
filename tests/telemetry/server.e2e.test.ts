/**
 * Telemetry in a real server: an SMB box opted in to everything publishes state, health, usage
 * and audit, and not one payload carries a prompt, a completion or an API key; a Community box
 * without the opt-in sends nothing; `hearth serve --broker` connects.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadOrCreateDeviceIdentity } from "../../runtime/identity/device-key.ts";
import { startBroker, type TestBroker } from "../helpers/mosquitto.ts";
import { postJson, readSse, startTestServer } from "../helpers/server.ts";
import { spawnServe } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";
import { installTestLicense, TEST_VENDOR_KEYS } from "../helpers/licenses.ts";
import { subscribe, waitFor } from "./helpers.ts";

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.stop();
});

describe("telemetry in the server", () => {
  test("privacy: every published payload is scanned; no prompt, completion or API key in any of them", async () => {
    const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion });
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-telemetry-e2e-"));
    installTestLicense(dataDir, [], "lic-telemetry-1");
    const server = await startTestServer({
      dataDir,
      "license.vendorKeys": TEST_VENDOR_KEYS,
      "license.checkpointEvery": 2,
      "telemetry.broker": broker.url,
      "telemetry.enabled": true,
      "telemetry.fleet": "privacy",
      "telemetry.healthIntervalSeconds": 1,
      // No collector here to receipt usage and audit: a PUBACK releases them.
      "telemetry.receipts": false,
    });
    try {
      const model = server.engine.model.id;
      const prompts = ["PRIVATE-PROMPT zebra quasar 4471: the patient's diagnosis", "CONFIDENTIAL-MERGER kestrel 9902 terms"];
      const completions: string[] = [];
      for (const content of prompts) {
        const res = await postJson(server, "/chat/completions", { model, messages: [{ role: "user", content }], max_tokens: 12, seed: 7 });
        expect(res.status).toBe(200);
        completions.push(res.json.choices[0].message.content);
        const done = await postJson(server, "/completions", { model, prompt: content, max_tokens: 12, seed: 3 });
        expect(done.status).toBe(200);
        completions.push(done.json.choices[0].text);
      }
      const streamed = await fetch(`${server.api}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${server.key}` },
        body: JSON.stringify({ model, messages: [{ role: "user", content: prompts[0] }], max_tokens: 12, stream: true }),
      });
      completions.push(
        (await readSse(streamed))
          .filter((d) => d !== "[DONE]")
          .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
          .join(""),
      );

      const flushed = await server.telemetry.flush();
      expect(flushed).toMatchObject({ delivered: true, pending: 0 });
      expect(flushed.usageSeq).not.toBeNull();
      await waitFor(() => sub.on("health").length > 0 && sub.on("usage").length > 0 && sub.on("audit").length > 0, "health, usage and audit");
      expect(server.telemetry.status()).toMatchObject({ connected: true, policy: { state: true, health: true, usage: true, audit: true } });
      const usage = sub.on("usage");
      expect(usage.reduce((n, u) => n + u.totals.requests, 0)).toBe(5);
      expect(usage[0]).toMatchObject({ tier: "smb", licenseId: "lic-telemetry-1", fleet: "privacy" });
      // The birth may predate the model; once it serves, a fresh retained state names it.
      await waitFor(() => sub.on("state").some((m) => m.models?.length > 0), "a state naming the model");
      expect(sub.on("state").at(-1)).toMatchObject({ state: "online", tier: "smb", licenseId: "lic-telemetry-1", models: [model] });

      // Commands reach the fleet command processor (not the "unsupported" stand-in) and are acked.
      const deviceId = loadOrCreateDeviceIdentity(dataDir).deviceId;
      await sub.client.publishAsync(`hearth/v1/privacy/${deviceId}/cmd`, "not a command", { qos: 1 });
      await waitFor(() => sub.on("cmd/ack").length > 0, "the ack");
      expect(sub.on("cmd/ack")[0]).toMatchObject({ device: deviceId, commandId: null, outcome: "rejected" });
      expect(sub.on("cmd/ack")[0].code).not.toBe("unsupported");

      // The scan: every payload of every channel, as the broker delivered it.
      const needles = [...prompts, ...prompts.flatMap((p) => p.split(" ").filter((w) => w.length >= 8)), server.key, server.key.slice(4)];
      for (const c of completions) if (c.trim().length >= 8) needles.push(c.trim());
      expect(sub.messages.length).toBeGreaterThanOrEqual(4);
      for (const m of sub.messages) for (const needle of needles) expect(m.text.includes(needle) ? `${m.topic} contains ${needle}` : null).toBeNull();
    } finally {
      await server.stop();
    }
    await waitFor(() => sub.on("state").some((m) => m.state === "offline"), "the offline state at stop");
    await sub.end();
  }, 60_000);

  test("Community without the opt-in sends nothing, not even a connection, though a broker is configured", async () => {
    const server = await startTestServer({ "telemetry.broker": broker.url, "telemetry.fleet": "quiet" });
    const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion, topic: "hearth/v1/quiet/#" });
    try {
      const res = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
      expect(res.status).toBe(200);
      expect(await server.telemetry.flush()).toMatchObject({ usageSeq: null, audits: 0, pending: 0 });
      await Bun.sleep(300);
      expect(server.telemetry.status()).toMatchObject({ started: true, connected: false, reconnectAttempts: 0, outbox: { total: 0 } });
    } finally {
      await server.stop();
    }
    await Bun.sleep(200);
    expect(sub.messages).toEqual([]);
    await sub.end();
  });

  test("`hearth serve --broker URL` connects (the opt-in from the environment) and says offline on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-telemetry-serve-"));
    const deviceId = loadOrCreateDeviceIdentity(dataDir).deviceId;
    const sub = await subscribe(broker.url, { protocolVersion: broker.protocolVersion, topic: `hearth/v1/+/${deviceId}/state` });
    const { proc } = await spawnServe(["--model", await testModel(), "--data-dir", dataDir, "--broker", broker.url], { HEARTH_TELEMETRY_ENABLED: "true" });
    try {
      await waitFor(() => sub.on("state").some((m) => m.state === "online"), "the birth from hearth serve");
      expect(sub.on("state")[0]).toMatchObject({ device: deviceId, tier: "community", fleet: "default" });
      expect(sub.on("state")[0].licenseId).toBeUndefined();
    } finally {
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    }
    await waitFor(() => sub.on("state").some((m) => m.state === "offline"), "the offline state");
    await sub.end();
  }, 60_000);
});
