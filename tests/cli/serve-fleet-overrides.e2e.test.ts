import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { openDatabase } from "../../runtime/store/db.ts";
import { storeConfigOverride } from "../../runtime/fleet/commands/config-overrides.ts";
import { hearth, spawnServe } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";

describe("serve applies settings changed by fleet commands", () => {
  test("a stored config.set override is in force at the next start; a flag still wins", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-overrides-"));
    const db = openDatabase(dataDir);
    storeConfigOverride(db, { path: "model.maxTokens", value: 3, commandId: "cmd-test-1", setAt: Date.now() });
    db.close();
    const key = JSON.parse((await hearth(["keys", "create", "--name", "t", "--data-dir", dataDir, "--json"])).stdout).key as string;
    const model = await testModel();
    const completionTokens = async (extra: string[]) => {
      const served = await spawnServe(["--model", model, "--data-dir", dataDir, "--context-size", "256", ...extra]);
      try {
        while ((await fetch(`${served.url}/readyz`)).status !== 200) await Bun.sleep(20);
        const res = await fetch(`${served.api}/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "tiny-f16-s1", prompt: "Once upon a time", max_tokens: 40, temperature: 1, seed: 7 }),
        });
        const body = (await res.json()) as { usage?: { completion_tokens: number }; error?: unknown };
        if (!body.usage) throw new Error(JSON.stringify(body));
        return body.usage.completion_tokens;
      } finally {
        served.proc.kill("SIGTERM");
        await served.proc.exited;
      }
    };
    expect(await completionTokens([])).toBeLessThanOrEqual(3);
    expect(await completionTokens(["--max-tokens", "20"])).toBeGreaterThan(3);
  });
});
