import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ModelHost } from "../../runtime/engine/model-host.ts";
import { HearthError } from "../../runtime/errors.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { startServer } from "../../runtime/server.ts";
import { silentLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { sharedLlama } from "../helpers/server.ts";
import { hearth } from "../helpers/cli.ts";

describe("model host", () => {
  test("answers 503 model_unavailable while loading, then serves", async () => {
    const host = new ModelHost();
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const loading = host.load(async () => {
      await gate;
      throw new HearthError("model_load_failed", "file is not a GGUF");
    });
    expect(host.status()).toEqual({ state: "loading" });
    const err = (() => {
      try {
        host.current();
      } catch (e) {
        return e as HearthError;
      }
    })();
    expect(err?.code).toBe("model_unavailable");
    expect(err?.status).toBe(503);
    expect(err?.details.retryAfterSeconds).toBe(1);
    finish();
    await expect(loading).rejects.toThrow("file is not a GGUF");
    expect(host.status()).toEqual({ state: "failed", code: "model_load_failed", reason: "file is not a GGUF" });
    expect(() => host.current()).toThrow("no model is being served: file is not a GGUF");
  });

  test("a model that fails to load leaves the server up: healthz 200, readyz and inference 503 with the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-badmodel-"));
    const bad = join(dir, "broken.gguf");
    writeFileSync(bad, "GGUF but not really");
    const config = loadConfig({ flags: { dataDir: dir, "model.path": bad, "server.port": 0 } });
    const server = await startServer(config, { logger: silentLogger, clock: systemClock, llama: await sharedLlama() });
    await expect(server.ready).rejects.toThrow();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).status).toBe("failed");
    const res = await fetch(`${server.url}/v1/models`, { headers: { authorization: "Bearer hth_x" } });
    expect(res.status).toBe(401); // auth is checked first; no model information leaks
    await server.stop();
  });

  test("hearth serve with a broken model exits 1 naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-badmodel-"));
    const bad = join(dir, "broken.gguf");
    writeFileSync(bad, "not a model");
    const res = await hearth(["serve", "--model", bad, "--data-dir", dir, "--port", "0"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(bad);
  });
});
