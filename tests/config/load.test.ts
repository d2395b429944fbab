import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { configLeaves, loadConfig } from "../../runtime/config/load.ts";
import { HearthError } from "../../runtime/errors.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "hearth-config-"));

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HearthError);
    expect((err as HearthError).code).toBe("config_invalid");
    return (err as HearthError).message;
  }
  throw new Error("expected config to be rejected");
}

describe("config", () => {
  test("built-in defaults apply with no sources", () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe("./data");
    expect(c.server.port).toBe(8080);
    expect(c.model.parallel).toBe(2);
    expect(c.auth.openInference).toBe(false);
  });

  test("later sources win: file < env < flags", () => {
    const file = join(tmp(), "config.json");
    writeFileSync(file, JSON.stringify({ server: { port: 1111, host: "0.0.0.0" }, model: { parallel: 3, maxTokens: 50 } }));
    const c = loadConfig({
      file,
      env: { HEARTH_SERVER_PORT: "2222", HEARTH_MODEL_PARALLEL: "4" },
      flags: { "server.port": 3333 },
    });
    expect(c.server.port).toBe(3333);
    expect(c.model.parallel).toBe(4);
    expect(c.server.host).toBe("0.0.0.0");
    expect(c.model.maxTokens).toBe(50);
  });

  test("env names derive from the schema paths", () => {
    const names = configLeaves().map((l) => l.env);
    expect(names).toContain("HEARTH_DATA_DIR");
    expect(names).toContain("HEARTH_MODEL_CONTEXT_SIZE");
    expect(names).toContain("HEARTH_AUTH_OPEN_INFERENCE");
    const c = loadConfig({ env: { HEARTH_DATA_DIR: "/x", HEARTH_AUTH_OPEN_INFERENCE: "true", HEARTH_MODEL_CONTEXT_SIZE: "512" } });
    expect(c.dataDir).toBe("/x");
    expect(c.auth.openInference).toBe(true);
    expect(c.model.contextSize).toBe(512);
  });

  test("every problem is one line naming field, value, rule and source", () => {
    const file = join(tmp(), "config.json");
    writeFileSync(file, JSON.stringify({ server: { port: 70000 }, model: { pth: "x" } }));
    const msg = problems(() => loadConfig({ file, env: { HEARTH_MODEL_PARALLEL: "lots", HEARTH_LOG_LEVEL: "loud" } }));
    const lines = msg.split("\n").slice(1);
    expect(lines.length).toBe(4);
    expect(msg).toContain(`server.port: 70000 must be at most 65535 (from ${file})`);
    expect(msg).toContain('model.parallel: "lots" must be an integer (from environment)');
    expect(msg).toContain("(from environment)");
    expect(msg).toContain('log.level: "loud" must be one of "debug", "info", "warn", "error"');
    expect(msg).toContain("model.pth");
    expect(msg).toContain("is not a known field");
  });

  test("an explicit config file that is missing or not JSON is refused", () => {
    expect(problems(() => loadConfig({ file: "/nonexistent/hearth.json" }))).toContain("cannot be read");
    const bad = join(tmp(), "bad.json");
    writeFileSync(bad, "{ not json");
    expect(problems(() => loadConfig({ file: bad }))).toContain("not valid JSON");
  });

  test("the default config file is used only when present", () => {
    expect(loadConfig({ defaultFile: "/nonexistent/config.json" }).server.port).toBe(8080);
    const file = join(tmp(), "config.json");
    writeFileSync(file, JSON.stringify({ server: { port: 9000 } }));
    expect(loadConfig({ defaultFile: file }).server.port).toBe(9000);
  });
});

describe("settings changed by fleet commands", () => {
  test("sit over the file and under the environment and flags, and are named when invalid", () => {
    const overrides = { "telemetry.enabled": true, "model.maxTokens": 64 };
    expect(loadConfig({ fleetOverrides: overrides }).model.maxTokens).toBe(64);
    expect(loadConfig({ fleetOverrides: overrides }).telemetry.enabled).toBe(true);
    expect(loadConfig({ fleetOverrides: overrides, env: { HEARTH_MODEL_MAX_TOKENS: "32" } }).model.maxTokens).toBe(32);
    expect(loadConfig({ fleetOverrides: overrides, flags: { "model.maxTokens": 16 } }).model.maxTokens).toBe(16);
    expect(() => loadConfig({ fleetOverrides: { "model.maxTokens": 0 } })).toThrow(/model\.maxTokens.*\(from a fleet command \(config\.set\)\)/);
  });
});
