import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { hearth } from "../helpers/cli.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "hearth-cli-"));

describe("hearth CLI", () => {
  test("--help lists every command, and every command has its own --help", async () => {
    const top = await hearth(["--help"]);
    expect(top.code).toBe(0);
    for (const cmd of ["serve", "keys create", "keys list", "keys revoke", "model synth", "model info", "model fit", "board", "kernels", "calibrate"]) {
      expect(top.stdout).toContain(cmd);
      const own = await hearth([...cmd.split(" "), "--help"]);
      expect(own.code).toBe(0);
      expect(own.stdout).toContain(`Usage: hearth ${cmd}`);
      expect(own.stdout).toContain("--help");
    }
  });

  test("keys create | list | revoke with --json", async () => {
    const dataDir = tmp();
    const created = await hearth(["keys", "create", "--name", "front desk", "--data-dir", dataDir, "--json"]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(Object.keys(key).sort()).toEqual(["id", "key", "name"]);
    expect(key.name).toBe("front desk");

    const listed = await hearth(["keys", "list", "--data-dir", dataDir, "--json"]);
    const list = JSON.parse(listed.stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: key.id, name: "front desk", revokedAt: null, requests: 0 });
    expect(listed.stdout).not.toContain(key.key);

    const table = await hearth(["keys", "list", "--data-dir", dataDir]);
    expect(table.stdout).toContain("front desk");
    expect(table.stdout).toContain("active");

    const revoked = await hearth(["keys", "revoke", key.id, "--data-dir", dataDir, "--json"]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).revokedAt).toBeGreaterThan(0);
    const missing = await hearth(["keys", "revoke", "key_nope", "--data-dir", dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("key_nope does not exist");
  });

  test("the data dir can come from the environment", async () => {
    const dataDir = tmp();
    await hearth(["keys", "create", "--name", "env"], { HEARTH_DATA_DIR: dataDir });
    const list = JSON.parse((await hearth(["keys", "list", "--json", "--data-dir", dataDir])).stdout);
    expect(list.map((k: { name: string }) => k.name)).toEqual(["env"]);
  });

  test("model synth then model info", async () => {
    const out = join(tmp(), "m.gguf");
    const synth = await hearth(["model", "synth", "--out", out, "--params", "tiny", "--seed", "1", "--json"]);
    expect(synth.code).toBe(0);
    expect(JSON.parse(synth.stdout).path).toBe(out);
    const info = await hearth(["model", "info", out, "--json"]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout).architecture).toBe("llama");
  });

  test("usage errors exit 2 and say what is wrong", async () => {
    const unknownFlag = await hearth(["keys", "list", "--bogus"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("--bogus");
    const unknownCmd = await hearth(["frobnicate"]);
    expect(unknownCmd.code).toBe(2);
    expect(unknownCmd.stderr).toContain("unknown command");
    const noName = await hearth(["keys", "create", "--data-dir", tmp()]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name is required");
    const badParams = await hearth(["model", "synth", "--out", join(tmp(), "x.gguf"), "--params", "huge"]);
    expect(badParams.code).toBe(2);
    expect(badParams.stderr).toContain("params");
    const badPort = await hearth(["serve", "--port", "eighty"]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port");
    const notGguf = join(tmp(), "not.gguf");
    writeFileSync(notGguf, "hello");
    const info = await hearth(["model", "info", notGguf]);
    expect(info.code).toBe(1);
    expect(info.stderr).toContain(notGguf);
  });

  test("invalid config stops serve with one line per problem", async () => {
    const dir = tmp();
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ server: { port: -1 }, model: { parallel: 0 } }));
    const res = await hearth(["serve", "--config", file, "--data-dir", dir], { HEARTH_LOG_LEVEL: "chatty" });
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split("\n");
    expect(lines[0]).toContain("invalid configuration");
    expect(lines.filter((l) => l.startsWith("  "))).toHaveLength(3);
    expect(res.stderr).toContain("server.port: -1 must be at least 0");
    expect(res.stderr).toContain("model.parallel: 0 must be at least 1");
    expect(res.stderr).toContain('log.level: "chatty" must be one of');
  });
});
