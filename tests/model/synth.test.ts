import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { isHearthError } from "../../runtime/errors.ts";
import { describeModel } from "../../runtime/model/info.ts";
import { parameterCount, PRESETS } from "../../runtime/model/presets.ts";
import { synthesizeModel, SynthOptionsSchema } from "../../runtime/model/synth.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-synth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("synthesizeModel", () => {
  test("is deterministic: same options give a byte-identical file, another seed a different one", async () => {
    const a = await synthesizeModel({ out: join(dir, "a.gguf"), seed: 7 });
    const b = await synthesizeModel({ out: join(dir, "b.gguf"), seed: 7 });
    const c = await synthesizeModel({ out: join(dir, "c.gguf"), seed: 8 });
    expect(a.sha256).toBe(b.sha256);
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    expect(c.sha256).not.toBe(a.sha256);
    // The reported hash and size are those of the file on disk.
    expect(sha(a.path)).toBe(a.sha256);
    expect(readFileSync(c.path).length).toBe(c.sizeBytes);
    expect(a).toMatchObject({ params: "tiny", type: "f16", seed: 7, parameters: parameterCount(PRESETS.tiny) });
  });

  test("seeds above 2^32 are distinct from their low 32 bits", async () => {
    const lo = await synthesizeModel({ out: join(dir, "lo.gguf"), seed: 3, type: "q4_0" });
    const hi = await synthesizeModel({ out: join(dir, "hi.gguf"), seed: 3 + 2 ** 32, type: "q4_0" });
    expect(hi.sha256).not.toBe(lo.sha256);
  });

  test("each tensor type yields the expected file size ordering and file_type", async () => {
    const sizes: Record<string, number> = {};
    for (const type of ["f32", "f16", "q8_0", "q4_0"] as const) {
      const r = await synthesizeModel({ out: join(dir, `t-${type}.gguf`), type });
      sizes[type] = r.sizeBytes;
      expect((await describeModel(r.path)).fileType).toBe(type.toUpperCase());
    }
    expect(sizes.f32!).toBeGreaterThan(sizes.f16!);
    expect(sizes.f16!).toBeGreaterThan(sizes.q8_0!);
    expect(sizes.q8_0!).toBeGreaterThan(sizes.q4_0!);
  });

  test("replaces an existing file atomically and leaves no temp files behind", async () => {
    const out = join(dir, "replace", "m.gguf");
    await synthesizeModel({ out, seed: 1 });
    writeFileSync(out, "stale");
    const r = await synthesizeModel({ out, seed: 1 });
    expect(sha(out)).toBe(r.sha256);
    expect(readdirSync(join(dir, "replace"))).toEqual(["m.gguf"]);
  });

  test("a synth killed mid-write never leaves a file at `out`, and its temp file is swept later", async () => {
    const sub = join(dir, "killed");
    const out = join(sub, "big.gguf");
    const script = `import { synthesizeModel } from ${JSON.stringify(join(import.meta.dir, "../../runtime/model/synth.ts"))};
      await synthesizeModel({ out: ${JSON.stringify(out)}, params: "20m", type: "f32" });`;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 20_000;
    // Kill as soon as the temp file has data in it.
    while (Date.now() < deadline && !(existsSync(sub) && readdirSync(sub).some((f) => f.endsWith(".tmp")))) await Bun.sleep(5);
    await Bun.sleep(50);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(readdirSync(sub).some((f) => f.endsWith(".tmp"))).toBe(true);
    expect(existsSync(out)).toBe(false);
    // The next synth of the same file sweeps the dead process's temp file away.
    await synthesizeModel({ out, params: "tiny" });
    expect(readdirSync(sub)).toEqual(["big.gguf"]);
  });

  test("rejects invalid options with invalid_request naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ out: join(dir, "x.gguf"), params: "1b" }, "params"],
      [{ out: join(dir, "x.gguf"), type: "q5_k" }, "type"],
      [{ out: join(dir, "x.gguf"), seed: -1 }, "seed"],
      [{ out: join(dir, "x.gguf"), seed: 1.5 }, "seed"],
      [{ out: join(dir, "x.gguf"), contextLength: 8 }, "contextLength"],
      [{ out: "" }, "out"],
    ];
    for (const [opts, field] of cases) {
      const err = await synthesizeModel(opts as never).catch((e: unknown) => e);
      expect(isHearthError(err) && err.code === "invalid_request" && err.field === field).toBe(true);
    }
    expect(existsSync(join(dir, "x.gguf"))).toBe(false);
  });

  test("the schema documents the defaults and accepts the documented options", () => {
    expect(Value.Default(SynthOptionsSchema, { out: "m.gguf" })).toEqual({ out: "m.gguf", params: "tiny", type: "f16", seed: 1 });
    expect(Value.Check(SynthOptionsSchema, { out: "m.gguf", params: "100m", type: "q4_0", seed: 0, name: "x", contextLength: 4096 })).toBe(true);
    expect(Value.Check(SynthOptionsSchema, { out: "m.gguf", extra: 1 })).toBe(false);
  });

  test("name and contextLength options land in the metadata", async () => {
    const r = await synthesizeModel({ out: join(dir, "named.gguf"), name: "my-model", contextLength: 1024 });
    const info = await describeModel(r.path);
    expect(info.name).toBe("my-model");
    expect(info.contextLength).toBe(1024);
  });
});

describe("presets", () => {
  test("parameter counts match their names within 25% (tiny: a few hundred thousand)", () => {
    const within = (n: number, target: number) => Math.abs(n - target) / target <= 0.25;
    const tiny = parameterCount(PRESETS.tiny);
    expect(tiny).toBeGreaterThan(100_000);
    expect(tiny).toBeLessThan(1_000_000);
    expect(within(parameterCount(PRESETS["20m"]), 20e6)).toBe(true);
    expect(within(parameterCount(PRESETS["100m"]), 100e6)).toBe(true);
  });

  test("every preset uses grouped-query attention and block-aligned dims", () => {
    for (const d of Object.values(PRESETS)) {
      expect(d.nHeadKv).toBeLessThan(d.nHead);
      expect(d.nHead % d.nHeadKv).toBe(0);
      expect(d.nEmbd % 32).toBe(0);
      expect(d.nFf % 32).toBe(0);
    }
  });

  test("the 20m preset synthesizes in seconds and reports its parameter count from the file", async () => {
    const r = await synthesizeModel({ out: join(dir, "20m.gguf"), params: "20m", type: "q4_0" });
    const info = await describeModel(r.path);
    expect(info.parameters).toBe(parameterCount(PRESETS["20m"]));
    expect(Math.abs(info.parameters - 20e6) / 20e6).toBeLessThan(0.25);
    expect(info).toMatchObject({ embeddingLength: 384, layers: 8, heads: 6, kvHeads: 2, vocabSize: 8192 });
    expect(r.durationMs).toBeLessThan(15_000);
  }, 30_000);
});
