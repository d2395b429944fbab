import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import Database from "better-sqlite3";
import { hearth, spawnServe } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";

test("SIGTERM lets a running generation finish and be metered, then exits 0", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-term-"));
  const model = await testModel();
  const { key } = JSON.parse((await hearth(["keys", "create", "--name", "t", "--data-dir", dataDir, "--json"])).stdout);
  const { proc, api } = await spawnServe(["--model", model, "--model-id", "m", "--data-dir", dataDir, "--context-size", "2048", "--max-tokens", "1500"]);
  const res = await fetch(`${api}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "go on" }], max_tokens: 1500, stream: true }),
  });
  const id = res.headers.get("x-request-id")!;
  const reader = res.body!.getReader();
  await reader.read(); // generation has started
  proc.kill("SIGTERM");
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  expect(text).toContain("data: [DONE]");
  expect(await proc.exited).toBe(0);
  const db = new Database(join(dataDir, "hearth.db"), { readonly: true });
  const row = db.prepare("SELECT outcome, completion_tokens FROM usage_ledger WHERE request_id = ?").get(id) as { outcome: string; completion_tokens: number };
  db.close();
  expect(row.outcome).toBe("completed");
  expect(row.completion_tokens).toBeGreaterThan(0);
}, 60_000);
