/**
 * `hearth serve` as a real child process with the `hearth admin` CLI beside it: the pairing code
 * on the console, an admin token from the CLI used against the API, settings applied by a restart
 * through the API (in-process, same port), token revocation and a CLI-issued pairing code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, hearth } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";

let proc: ReturnType<typeof Bun.spawn>;
let url = "";
let stdout = "";
const dataDir = mkdtempSync(join(tmpdir(), "hearth-admin-serve-"));

beforeAll(async () => {
  proc = Bun.spawn([process.execPath, CLI, "serve", "--port", "0", "--model", await testModel(), "--data-dir", dataDir, "--context-size", "512"], {
    env: { ...process.env, HEARTH_CALIBRATION_AUTO: "false" },
    stdout: "pipe",
    stderr: "ignore",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + 60_000;
  while (!/at (http:\/\/\S+)\/v1/.test(stdout)) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${stdout}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${stdout}`);
    stdout += decoder.decode(value);
  }
  reader.releaseLock();
  url = stdout.match(/at (http:\/\/\S+)\/v1/)![1]!;
});
afterAll(async () => {
  proc.kill("SIGTERM");
  await proc.exited;
});

const api = (method: string, path: string, token: string, body?: unknown) =>
  fetch(`${url}/admin/api/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("hearth serve with the admin CLI", () => {
  test("the console shows the pairing code", () => {
    expect(stdout).toMatch(/Pairing code: [2-9A-Z]{4}-[2-9A-Z]{4}/);
  });

  test("admin token create --json prints a token the API accepts; revoke stops it", async () => {
    const created = await hearth(["admin", "token", "create", "--name", "ci", "--data-dir", dataDir, "--json"]);
    expect(created.code).toBe(0);
    const { token, id } = JSON.parse(created.stdout);
    expect(token).toStartWith("hadm_");
    const status = await api("GET", "status", token);
    expect(status.status).toBe(200);
    expect(((await status.json()) as any).models[0].state).toBe("ready");

    const list = await hearth(["admin", "token", "list", "--data-dir", dataDir, "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id, name: "ci", revokedAt: null })]);
    expect(list.stdout).not.toContain(token);

    expect((await hearth(["admin", "token", "revoke", id, "--data-dir", dataDir])).code).toBe(0);
    expect((await api("GET", "status", token)).status).toBe(401);
    // Without --name it still works (the interface: `admin token create --data-dir DIR --json`).
    expect(JSON.parse((await hearth(["admin", "token", "create", "--data-dir", dataDir, "--json"])).stdout).token).toStartWith("hadm_");
  });

  test("a restart through the API brings the server back on the same port with the stored settings", async () => {
    const { token } = JSON.parse((await hearth(["admin", "token", "create", "--name", "restart", "--data-dir", dataDir, "--json"])).stdout);
    const put = await api("PUT", "settings", token, { "model.maxTokens": 7 });
    expect(put.status).toBe(200);
    const before = (await (await api("GET", "status", token)).json()) as any;
    const restart = await api("POST", "restart", token);
    expect(restart.status).toBe(202);

    const deadline = Date.now() + 60_000;
    let after: any = null;
    while (Date.now() < deadline) {
      await Bun.sleep(200);
      const health = await fetch(`${url}/healthz`).catch(() => null);
      if (health?.status !== 200) continue;
      const status = (await (await api("GET", "status", token)).json()) as any;
      if (status.startedAt !== before.startedAt && status.models[0]?.state === "ready") {
        after = status;
        break;
      }
    }
    expect(after).not.toBeNull();
    const settings = (await (await api("GET", "settings", token)).json()) as any;
    expect(settings.settings.find((s: any) => s.path === "model.maxTokens")).toMatchObject({ inForce: 7, stored: 7 });
    expect(settings.restartRequired).toBe(false);
    // The logs survived the restart.
    const logs = (await (await api("GET", "logs?limit=1000", token)).json()) as any;
    expect(logs.records.map((r: any) => r.msg)).toEqual(expect.arrayContaining(["restart requested from the admin API", "restarted"]));
  });

  test("admin pairing-code issues a code the running server accepts", async () => {
    const issued = await hearth(["admin", "pairing-code", "--data-dir", dataDir, "--json"]);
    expect(issued.code).toBe(0);
    const { code } = JSON.parse(issued.stdout);
    const res = await fetch(`${url}/admin/api/pairing`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, password: "correct horse battery" }) });
    expect(res.status).toBe(200);
  });
});
