/**
 * The license as a running server applies it: re-verified at start against the box's fingerprint,
 * its entitlements gating LoRA adapters and a second model, never stopping the primary model; and
 * the ledger's checkpoints signed with the device key the server created.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadOrCreateDeviceIdentity } from "../../runtime/identity/device-key.ts";
import { licenseFilePath } from "../../runtime/license/store.ts";
import { checkpointSignatureValid, readCheckpoints } from "../../runtime/ledger/checkpoints.ts";
import { openDatabase } from "../../runtime/store/db.ts";
import { postJson, startTestServer, type TestServer } from "../helpers/server.ts";
import { installTestLicense, TEST_VENDOR_KEYS } from "../helpers/licenses.ts";
import { testModel } from "../helpers/models.ts";
import { loraFixtures } from "../model/lora-fixture.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(dataDir: string) {
  const { adapter } = await loraFixtures();
  const extra = await testModel({ seed: 2 });
  const server = await startTestServer({
    dataDir,
    "model.loras": [{ path: adapter, scale: 1 }],
    models: [{ path: extra, id: "second" }],
    "license.vendorKeys": TEST_VENDOR_KEYS,
  });
  servers.push(server);
  await server.extras;
  return { server, readyz: (await (await fetch(`${server.url}/readyz`)).json()) as any };
}

const chat = (server: TestServer, model: string) =>
  postJson(server, "/chat/completions", { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });

describe("the license at server start", () => {
  test("Community: the adapter and the second model are refused naming their entitlements; the primary serves", async () => {
    const { server, readyz } = await serve(mkdtempSync(join(tmpdir(), "hearth-serve-lic-")));
    expect(readyz.license).toEqual({ tier: "community", reason: "absent" });
    expect(readyz.adapters[0].applied).toBe(false);
    expect(readyz.adapters[0].code).toBe("entitlement_required");
    expect(readyz.adapters[0].reason).toContain('"lora_adapters"');
    const second = readyz.models.find((m: any) => m.id === "second");
    expect(second.state).toBe("refused");
    expect(second.reason).toContain('"multi_model"');
    expect((await chat(server, readyz.model)).status).toBe(200);
    const refused = await chat(server, "second");
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toContain('"multi_model"');
  });

  test("SMB with lora_adapters and multi_model: the adapter is applied and both models serve", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-serve-lic-"));
    installTestLicense(dataDir, ["lora_adapters", "multi_model"]);
    const { server, readyz } = await serve(dataDir);
    expect(readyz.license).toEqual({ tier: "smb", reason: "valid" });
    expect(readyz.adapters[0].applied).toBe(true);
    expect(readyz.models.find((m: any) => m.id === "second").state).toBe("ready");
    expect((await chat(server, "second")).status).toBe(200);
  });

  test("SMB without multi_model: the adapter applies, the second model is refused", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-serve-lic-"));
    installTestLicense(dataDir, ["lora_adapters"]);
    const { readyz } = await serve(dataDir);
    expect(readyz.adapters[0].applied).toBe(true);
    expect(readyz.models.find((m: any) => m.id === "second").state).toBe("refused");
  });

  test("an installed license altered on disk is re-verified at start: Community, the file is kept", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-serve-lic-"));
    installTestLicense(dataDir, ["lora_adapters", "multi_model"]);
    const file = licenseFilePath(dataDir);
    writeFileSync(file, readFileSync(file, "utf8").replace("Harbour Clinic", "Harbour Clinics"));
    const { server, readyz } = await serve(dataDir);
    expect(readyz.license).toEqual({ tier: "community", reason: "bad_signature" });
    expect(readyz.adapters[0].applied).toBe(false);
    expect(existsSync(file)).toBe(true);
    expect((await chat(server, readyz.model)).status).toBe(200);
  });
});

describe("the ledger of a running server", () => {
  test("stopping writes a checkpoint signed by the device key the server created", async () => {
    const server = await startTestServer({}, undefined);
    for (let i = 0; i < 3; i++) expect((await chat(server, server.engine.model.id)).status).toBe(200);
    await server.stop();
    const identity = loadOrCreateDeviceIdentity(server.dataDir);
    expect(identity.created).toBe(false);
    const db = openDatabase(server.dataDir);
    try {
      const checkpoints = readCheckpoints(db);
      expect(checkpoints).toHaveLength(1);
      const cp = checkpoints[0]!;
      if (!("checkpoint" in cp)) throw new Error(`malformed checkpoint: ${cp.malformed}`);
      expect(cp.checkpoint.payload.deviceId).toBe(identity.deviceId);
      expect(cp.checkpoint.payload.count).toBe(3);
      expect(checkpointSignatureValid(cp.checkpoint, identity.publicKey)).toBe(true);
    } finally {
      db.close();
    }
  });
});
