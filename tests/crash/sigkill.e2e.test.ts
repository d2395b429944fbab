import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import Database from "better-sqlite3";
import { hearth, spawnServe } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";

describe("crash safety", () => {
  test("SIGKILL during a burst: the database passes integrity_check and holds every acknowledged request", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-crash-"));
    const model = await testModel();
    const created = await hearth(["keys", "create", "--name", "burst", "--data-dir", dataDir, "--json"]);
    expect(created.code).toBe(0);
    const { key } = JSON.parse(created.stdout);

    const { proc, api } = await spawnServe(["--model", model, "--data-dir", dataDir, "--parallel", "2", "--queue-size", "64"]);
    // The model id is the file name; ask the server rather than guess.
    const models = await (await fetch(`${api}/models`, { headers: { authorization: `Bearer ${key}` } })).json();
    const modelId = models.data[0].id as string;
    const acknowledged: string[] = [];
    let failed = 0;
    const one = async (i: number) => {
      try {
        const res = await fetch(`${api}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: modelId, messages: [{ role: "user", content: `request ${i}` }], max_tokens: 8 + (i % 5) }),
        });
        const body = await res.json();
        if (res.status === 200) acknowledged.push(body.id);
      } catch {
        failed++; // the connection died with the server: not acknowledged
      }
    };
    const burst = Array.from({ length: 60 }, (_, i) => i);
    const inFlight = burst.map((i) => Bun.sleep(i * 3).then(() => one(i)));
    // Kill once some requests have been answered and others are still running.
    const killAfter = Date.now() + 20_000;
    while (acknowledged.length < 10 && Date.now() < killAfter) await Bun.sleep(2);
    proc.kill("SIGKILL");
    await proc.exited;
    await Promise.all(inFlight);
    expect(acknowledged.length).toBeGreaterThanOrEqual(10);
    expect(failed).toBeGreaterThan(0);

    const db = new Database(join(dataDir, "hearth.db"));
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const ids = new Set((db.prepare("SELECT request_id FROM usage_ledger").all() as { request_id: string }[]).map((r) => r.request_id));
    for (const id of acknowledged) expect(ids.has(id)).toBe(true);
    db.close();

    // And it starts again on the same data.
    const again = await spawnServe(["--model", model, "--data-dir", dataDir]);
    const res = await fetch(`${again.api}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: modelId, messages: [{ role: "user", content: "after" }], max_tokens: 4 }),
    });
    expect(res.status).toBe(200);
    again.proc.kill("SIGTERM");
    expect(await again.proc.exited).toBe(0);
  }, 120_000);
});
