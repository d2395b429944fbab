import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../runtime/config/load.ts";
import { startServer, type RunningServer } from "../../runtime/server.ts";
import { silentLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { readCheckpoints } from "../../runtime/ledger/checkpoints.ts";
import { verifyLedger } from "../../runtime/ledger/verify.ts";
import { sharedLlama } from "../helpers/server.ts";
import { testModel } from "../helpers/models.ts";
import { testIdentity, tmp, removeTempDirs } from "./fixture.ts";

const device = testIdentity();
let server: RunningServer;
let key: string;

beforeAll(async () => {
  const config = loadConfig({ flags: { dataDir: tmp(), "model.path": await testModel(), "server.port": 0, "model.contextSize": 512, "calibration.auto": false } });
  server = await startServer(config, { logger: silentLogger, clock: systemClock, llama: await sharedLlama(), ledger: { signer: device, checkpointEvery: 2 } });
  await server.ready;
  key = new ApiKeyStore(server.db, systemClock).create("e2e").key;
});
afterAll(async () => {
  await server.stop();
  removeTempDirs();
});

describe("the server's usage ledger", () => {
  test("requests through the API are chained and checkpointed with the ledger options the caller chose", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: server.engine.model.id, messages: [{ role: "user", content: "Hi" }], max_tokens: 1 }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(verifyLedger(server.db, { devicePublicKey: device.publicKey })).toMatchObject({ ok: true, records: 3, lastSeq: 3, checkpoints: 1 });
    const [cp] = readCheckpoints(server.db);
    expect(cp && "checkpoint" in cp && cp.checkpoint.payload).toMatchObject({ ledgerSeq: 2, count: 2, deviceId: device.deviceId });
  });
});
