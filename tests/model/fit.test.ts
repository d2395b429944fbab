/**
 * Choosing the file of a model that fits a board: real synthetic GGUFs (the same weights as F16,
 * Q8_0 and Q4_0), node-llama-cpp's real reader and estimators, and real loads to check the
 * estimates against what llama.cpp actually allocates.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import type { Llama } from "node-llama-cpp";
import type { Io } from "../../runtime/cli/command.ts";
import { createModelFitCommand, modelFitCommand } from "../../runtime/cli/commands/model-fit.ts";
import { runCli } from "../../runtime/cli/run.ts";
import { isHearthError } from "../../runtime/errors.ts";
import {
  checkModelFits,
  FitDecisionSchema,
  fitModel,
  requireFit,
  type CandidateFit,
  type FitDecision,
  type FitTarget,
} from "../../runtime/model/fit.ts";
import { detectBoard } from "../../board/index.ts";
import { fitTargetOf } from "../../runtime/hardware.ts";
import { testModel } from "../helpers/models.ts";
import { testLlama } from "./fixture.ts";

const TYPES = ["f16", "q8_0", "q4_0"] as const;
type Files = Record<(typeof TYPES)[number], string>;
const BIG = 64e9;
const cpu = (arch: string, cpuFeatures: string[]): FitTarget => ({ memoryBudgetBytes: BIG, arch, cpuFeatures, gpu: null });
const ARM_I8MM = cpu("arm64", ["dotprod", "fp16", "i8mm", "neon"]); // Cortex-A710/X2 class
const PI5 = cpu("arm64", ["dotprod", "fp16", "neon"]); // Cortex-A76: dotprod, no i8mm
const PI4 = cpu("arm64", ["neon"]); // Cortex-A72: plain NEON
const X86_AVX2 = cpu("x64", ["avx", "avx2", "f16c", "fma"]);
const GPU_ALL: FitTarget = { ...X86_AVX2, gpu: { vramBytes: 8e9, unifiedMemory: false, offload: "all" } };
const JETSON = (memoryBudgetBytes: number): FitTarget => ({
  ...cpu("arm64", ["dotprod", "fp16", "neon"]),
  memoryBudgetBytes,
  gpu: { vramBytes: memoryBudgetBytes, unifiedMemory: true, offload: "all" },
});

let tiny: Files;
let m20: Files;
let llama: Llama;
const dir = mkdtempSync(join(tmpdir(), "hearth-fit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const synth = async (params: "tiny" | "20m") =>
    Object.fromEntries(await Promise.all(TYPES.map(async (type) => [type, await testModel({ params, type, seed: 1 })]))) as Files;
  [tiny, m20, llama] = await Promise.all([synth("tiny"), synth("20m"), testLlama()]);
});

const fit = (files: Files, target: FitTarget, contextSize = 2048, sequences = 1): Promise<FitDecision> =>
  fitModel([files.f16, files.q8_0, files.q4_0], target, { contextSize, sequences }, { llama });
const by = (d: FitDecision, quantization: string): CandidateFit => d.candidates.find((c) => c.quantization === quantization)!;

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (err === null) throw new Error("expected a rejection");
  return isHearthError(err) ? { code: err.code, message: err.message } : { message: String(err) };
}

describe("with room for every file, the choice follows the hardware", () => {
  test("ARM with i8mm: Q4_0, which llama.cpp repacks as q4_0_4x8", async () => {
    const d = await fit(m20, ARM_I8MM);
    expect(d.chosen).toBe(m20.q4_0);
    expect(d.candidates.map((c) => [c.quantization, c.fits])).toEqual([["Q4_0", true], ["Q8_0", true], ["F16", true]]);
    expect(by(d, "Q4_0").repackLayouts).toEqual(["q4_0_4x8 (i8mm)"]);
    expect(by(d, "Q4_0").reason).toContain("repacks it as q4_0_4x8 (i8mm)");
    // The repacked copy is memory too: about the size of the blk.* matrices, and none for F16.
    expect(by(d, "Q4_0").needMB.repack).toBeGreaterThan(by(d, "Q4_0").needMB.weights * 0.5);
    expect(by(d, "Q8_0").repackLayouts).toEqual(["q8_0_4x8 (i8mm)"]);
    expect(by(d, "F16").needMB.repack).toBe(0);
    expect(by(d, "Q4_0").score).toBeGreaterThan(by(d, "Q8_0").score);
    expect(by(d, "Q8_0").score).toBeGreaterThan(by(d, "F16").score);
  });

  test("ARM with dotprod only (Pi 5) repacks as q4_0_4x4; plain NEON (Pi 4) picks Q4_0 on bandwidth alone", async () => {
    const pi5 = await fit(m20, PI5);
    expect(pi5.chosen).toBe(m20.q4_0);
    expect(by(pi5, "Q4_0").repackLayouts).toEqual(["q4_0_4x4 (dotprod)"]);
    const pi4 = await fit(m20, PI4);
    expect(pi4.chosen).toBe(m20.q4_0);
    expect(pi4.candidates.every((c) => c.repackLayouts.length === 0 && c.needMB.repack === 0)).toBe(true);
    // Decode reads every weight per token, so the score is inversely proportional to bytes per weight.
    expect(by(pi4, "Q4_0").score / by(pi4, "F16").score).toBeCloseTo(16 / 4.5, 0);
    expect(by(pi4, "Q4_0").reason).toMatch(/CPU reads [\d.]+ MB\/token/);
  });

  test("x86 with AVX2: Q4_0 (q4_0_8x8); Q8_0 is not repacked on x86; F16 without F16C counts half", async () => {
    const d = await fit(m20, X86_AVX2);
    expect(d.chosen).toBe(m20.q4_0);
    expect(by(d, "Q4_0").repackLayouts).toEqual(["q4_0_8x8 (avx2)"]);
    expect(by(d, "Q8_0").needMB.repack).toBe(0);
    const old = await fit(m20, cpu("x64", ["sse4_2"]));
    expect(old.chosen).toBe(m20.q4_0);
    expect(by(old, "Q4_0").repackLayouts).toEqual([]);
    expect(by(old, "F16").score).toBeCloseTo(by(d, "F16").score / 2, 0);
    expect(by(old, "F16").reason).toContain("no F16C");
  });

  test("a GPU that holds every layer: the most precise file, F16", async () => {
    const d = await fit(m20, GPU_ALL);
    expect(d.chosen).toBe(m20.f16);
    expect(d.candidates.map((c) => c.quantization)).toEqual(["F16", "Q8_0", "Q4_0"]);
    for (const c of d.candidates) {
      expect(c.gpuLayers).toBe(c.totalLayers);
      expect(c.needMB.vram).toBeGreaterThan(c.needMB.weights); // weights and KV cache live in VRAM
      expect(c.reason).toContain(`all ${c.totalLayers} layers on the GPU`);
    }
  });
});

describe("budgets", () => {
  test("between the sizes, the best file that fits is chosen and the others say what they need", async () => {
    const roomy = await fit(m20, JETSON(BIG));
    const [f16, q8] = [by(roomy, "F16").needMB.ram, by(roomy, "Q8_0").needMB.ram];
    expect(f16).toBeGreaterThan(q8);
    const budgetMB = Math.round((f16 + q8) / 2);
    const d = await fit(m20, JETSON(budgetMB * 1e6));
    expect(d.chosen).toBe(m20.q8_0); // the largest that fits: precision wins when all layers are on the GPU
    expect(by(d, "Q4_0").fits).toBe(true);
    const over = by(d, "F16");
    expect(over).toMatchObject({ fits: false, budgetMB: { ram: budgetMB } });
    expect(over.needMB.ram).toBe(f16);
    expect(over.reason).toContain(`needs ${f16.toFixed(1)} MB RAM > budget ${budgetMB.toFixed(1)} MB`);
    expect(d.candidates.at(-1)).toBe(over); // non-fitting files come last

    // On a CPU board the smallest file is also the fastest: Q4_0 under a budget Q8_0 exceeds.
    const arm = await fit(m20, ARM_I8MM);
    const between = Math.round((by(arm, "Q4_0").needMB.ram + by(arm, "Q8_0").needMB.ram) / 2);
    const tight = await fit(m20, { ...ARM_I8MM, memoryBudgetBytes: between * 1e6 });
    expect(tight.chosen).toBe(m20.q4_0);
    expect(tight.candidates.filter((c) => !c.fits).map((c) => c.quantization)).toEqual(["Q8_0", "F16"]);
  });

  test("below every file: nothing is chosen, and requireFit names the smallest need and the budget", async () => {
    const d = await fit(m20, { ...X86_AVX2, memoryBudgetBytes: 20e6 });
    expect(d.chosen).toBeNull();
    expect(d.candidates.every((c) => !c.fits)).toBe(true);
    const q4 = by(d, "Q4_0");
    expect(d.candidates[0]).toBe(q4); // smallest need first
    let thrown: unknown;
    try {
      requireFit(d);
    } catch (err) {
      thrown = err;
    }
    expect(isHearthError(thrown) && thrown.code).toBe("model_over_budget");
    const message = (thrown as Error).message;
    expect(message).toContain(`${m20.q4_0} (Q4_0), needs ${q4.needMB.ram.toFixed(1)} MB of RAM`);
    expect(message).toContain("the RAM budget is 20.0 MB");
    expect(message).toContain(`${m20.f16} (F16) ${by(d, "F16").needMB.ram.toFixed(1)} MB`);
    expect(message).toBe(d.reason);
  });

  test("context and sequences count: the KV cache grows with both and can push a file over", async () => {
    const small = by(await fit(m20, ARM_I8MM, 512), "Q4_0");
    const large = by(await fit(m20, ARM_I8MM, 2048), "Q4_0");
    const parallel = by(await fit(m20, ARM_I8MM, 512, 4), "Q4_0");
    // 8 layers × (2 KV heads × 64) × (K + V) × 2 bytes = 4096 bytes per token.
    expect(small.needMB.kvCache).toBeCloseTo((512 * 4096) / 1e6, 1);
    expect(large.needMB.kvCache).toBeCloseTo(small.needMB.kvCache * 4, 0);
    expect(parallel.needMB.kvCache).toBeCloseTo(small.needMB.kvCache * 4, 0);
    expect(large.needMB.ram).toBeGreaterThan(small.needMB.ram);
    // Past the training context (2048) the engine caps the context, and so does the estimate.
    const capped = by(await fit(m20, ARM_I8MM, 8192), "Q4_0");
    expect(capped.contextSize).toBe(2048);
    expect(capped.needMB).toEqual(large.needMB);

    const budget = { ...ARM_I8MM, memoryBudgetBytes: Math.round((small.needMB.ram + large.needMB.ram) / 2) * 1e6 };
    expect((await fit(m20, budget, 512)).chosen).toBe(m20.q4_0);
    expect((await fit(m20, budget, 2048)).chosen).toBeNull();
    expect((await fit(m20, budget, 512, 4)).chosen).toBeNull();
  });
});

describe("checkModelFits, for loading one model", () => {
  test("returns the estimate when it fits and throws model_over_budget with both numbers when not", async () => {
    const ok = await checkModelFits(m20.q4_0, X86_AVX2, { contextSize: 1024 }, { llama });
    expect(ok).toMatchObject({ file: m20.q4_0, quantization: "Q4_0", fits: true, contextSize: 1024 });
    const err = await errorOf(checkModelFits(m20.q4_0, { ...X86_AVX2, memoryBudgetBytes: 30e6 }, { contextSize: 1024 }, { llama }));
    expect(err.code).toBe("model_over_budget");
    expect(err.message).toContain(`needs ${ok.needMB.ram.toFixed(1)} MB of RAM`);
    expect(err.message).toContain("the RAM budget is 30.0 MB");
    expect(err.message).toMatch(/weights [\d.]+ \+ repacked copy [\d.]+ \+ KV cache [\d.]+ \+ compute [\d.]+ \+ margin [\d.]+/);
  });

  test("a GPU too small for every layer: offload all refuses on VRAM, offload fit places what fits", async () => {
    const all = await checkModelFits(m20.f16, GPU_ALL, { contextSize: 2048 }, { llama });
    const vramBytes = Math.round(all.needMB.vram * 0.7) * 1e6;
    const small = (offload: "all" | "fit"): FitTarget => ({ ...GPU_ALL, gpu: { vramBytes, unifiedMemory: false, offload } });
    const err = await errorOf(checkModelFits(m20.f16, small("all"), { contextSize: 2048 }, { llama }));
    expect(err.code).toBe("model_over_budget");
    expect(err.message).toContain(`needs ${all.needMB.vram.toFixed(1)} MB of VRAM`);
    const partial = await checkModelFits(m20.f16, small("fit"), { contextSize: 2048 }, { llama });
    expect(partial.gpuLayers).toBeGreaterThan(0);
    expect(partial.gpuLayers).toBeLessThan(partial.totalLayers);
    expect(partial.needMB.vram).toBeLessThanOrEqual(vramBytes / 1e6);
  });

  test("files that are not GGUF are gguf_invalid; missing files model_not_found; bad options invalid_request", async () => {
    const good = readFileSync(tiny.q4_0);
    const garbage = join(dir, "garbage.gguf");
    writeFileSync(garbage, Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, good.subarray(0, good.length - 1000));
    for (const file of [garbage, truncated]) {
      expect((await errorOf(checkModelFits(file, X86_AVX2, { contextSize: 512 }))).code).toBe("gguf_invalid");
      expect((await errorOf(fitModel([tiny.q4_0, file], X86_AVX2, { contextSize: 512 }))).code).toBe("gguf_invalid");
    }
    expect((await errorOf(checkModelFits(join(dir, "missing.gguf"), X86_AVX2, { contextSize: 512 }))).code).toBe("model_not_found");
    expect((await errorOf(fitModel([tiny.q4_0], X86_AVX2, { contextSize: 0 }))).code).toBe("invalid_request");
    expect((await errorOf(fitModel([], X86_AVX2, { contextSize: 512 }))).code).toBe("invalid_request");
  });
});

/** Loads a model in a fresh process (clean RSS) and reports what llama.cpp allocated and RSS grew by. */
const MEASURE = `
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { readFileSync } from "node:fs";
const rss = () => {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (k) => Number(s.match(new RegExp(k + ":\\\\s+(\\\\d+) kB"))[1]) * 1024;
  return kb("RssAnon") + kb("RssFile");
};
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const before = rss();
const model = await llama.loadModel({ modelPath: process.env.FIT_MODEL, gpuLayers: 0 });
const context = await model.createContext({
  contextSize: Number(process.env.FIT_CONTEXT), sequences: Number(process.env.FIT_SEQUENCES), flashAttention: false, threads: 1,
});
await context.getSequence().evaluateWithoutGeneratingNewTokens(model.tokenize("The quick brown fox jumps over the lazy dog. ".repeat(8)));
console.log(JSON.stringify({
  rssGrowth: rss() - before,
  // node-llama-cpp's own accounting of llama.cpp's buffers (what its memory orchestrator tracks)
  model: model._model.getMemoryBreakdown().cpuRam,
  context: context._ctx.getMemoryBreakdown().cpuRam,
}));
`;

async function measure(file: string, contextSize: number, sequences: number): Promise<{ rssGrowth: number; model: number; context: number }> {
  const proc = Bun.spawn([process.execPath, "-e", MEASURE], {
    cwd: join(import.meta.dir, "..", ".."),
    env: { ...process.env, FIT_MODEL: file, FIT_CONTEXT: String(contextSize), FIT_SEQUENCES: String(sequences) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`measuring ${file} failed (${code}): ${err}`);
  return JSON.parse(out);
}

describe("estimates against real loads", () => {
  // Tolerance: the estimate without its margin may be at most 1% + 0.05 MB under llama.cpp's
  // allocations (llama.cpp maps the file's tensor range with its alignment padding while the
  // estimate sums the tensors; the decision's MB are rounded to 0.1).
  test("never below what llama.cpp allocates or what the process grows by", async () => {
    const here = fitTargetOf(await detectBoard(), false); // the repacking this CPU really does
    const cases = [
      [tiny.f16, 2048, 1],
      [tiny.q4_0, 2048, 1],
      [m20.f16, 2048, 1],
      [m20.q8_0, 1024, 2],
      [m20.q4_0, 2048, 1],
    ] as const;
    const rows = await Promise.all(
      cases.map(async ([file, contextSize, sequences]) => {
        const [real, c] = await Promise.all([
          measure(file, contextSize, sequences),
          checkModelFits(file, { ...here, memoryBudgetBytes: BIG }, { contextSize, sequences }, { llama }),
        ]);
        return { file, contextSize, sequences, real, c };
      }),
    );
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    for (const { c, contextSize, sequences, real } of rows) {
      const n = c.needMB;
      console.log(
        `${c.file.split("/").at(-1)} ctx ${contextSize}×${sequences}: estimate ${n.total.toFixed(1)} MB ` +
          `(weights ${n.weights} + repack ${n.repack} + KV ${n.kvCache} + compute ${n.compute} + margin ${n.margin}); ` +
          `llama.cpp allocated ${mb(real.model)} model + ${mb(real.context)} context; RSS grew ${mb(real.rssGrowth)} MB`,
      );
    }
    for (const { c, real } of rows) {
      const allocated = (real.model + real.context) / 1e6;
      const withoutMargin = c.needMB.total - c.needMB.margin;
      const under = (mb: number) => mb * 0.99 - 0.05;
      expect(c.needMB.weights + c.needMB.repack).toBeGreaterThanOrEqual(under(real.model / 1e6));
      expect(c.needMB.kvCache + c.needMB.compute).toBeGreaterThanOrEqual(under(real.context / 1e6));
      expect(withoutMargin).toBeGreaterThanOrEqual(under(allocated));
      expect(c.needMB.total).toBeGreaterThanOrEqual(allocated);
      expect(c.needMB.total).toBeGreaterThanOrEqual(real.rssGrowth / 1e6);
      // ...and not so far above that it refuses files that would run.
      expect(withoutMargin).toBeLessThan(allocated * 1.6);
    }
  });
});

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: "", stderr: "", env: {}, out: (t: string) => void (io.stdout += `${t}\n`), err: (t: string) => void (io.stderr += `${t}\n`) };
  return io;
}

describe("hearth model fit", () => {
  test("--json prints a FitDecision with the chosen file, exit 0", async () => {
    const io = capture();
    const code = await runCli(["model", "fit", m20.f16, m20.q8_0, m20.q4_0, "--budget-mb", "100000", "--json"], [modelFitCommand], io);
    expect({ code, stderr: io.stderr }).toEqual({ code: 0, stderr: "" });
    const decision = JSON.parse(io.stdout);
    expect(Value.Check(FitDecisionSchema, decision)).toBe(true);
    expect(decision.chosen).toBe(m20.q4_0); // this machine has no GPU, and on CPU Q4_0 reads the fewest bytes
    expect(decision.target.memoryBudgetBytes).toBe(100000e6);
    expect(decision.options).toEqual({ contextSize: 2048, sequences: 1, batchSize: null });
  });

  test("nothing fits: the table still prints, then model_over_budget, exit 1", async () => {
    const io = capture();
    const code = await runCli(["model", "fit", tiny.f16, tiny.q4_0, "--budget-mb", "1"], [modelFitCommand], io);
    expect(code).toBe(1);
    expect(io.stdout).toContain("NEED MB");
    expect(io.stdout).toContain("Chosen: none");
    expect(io.stderr).toMatch(/no file fits the memory budget: the smallest, .*tiny-q4_0-s1\.gguf \(Q4_0\), needs [\d.]+ MB of RAM/);
    expect(io.stderr).toContain("the RAM budget is 1.0 MB");
    expect(io.stderr).toContain("[model_over_budget]");
    const json = capture();
    expect(await runCli(["model", "fit", tiny.q4_0, "--budget-mb", "1", "--json"], [modelFitCommand], json)).toBe(1);
    expect(JSON.parse(json.stdout).chosen).toBeNull();
    expect(JSON.parse(json.stderr).error.code).toBe("model_over_budget");
  });

  test("the target comes from the injected source; context and parallel flags reach the estimate", async () => {
    const command = createModelFitCommand({ targetSource: () => GPU_ALL, llama: testLlama });
    const io = capture();
    expect(await runCli(["model", "fit", m20.q4_0, m20.f16, "--context", "512", "--parallel", "2"], [command], io)).toBe(0);
    expect(io.stdout).toContain("Target: x64 (avx avx2 f16c fma), GPU 8000 MB, offload all");
    expect(io.stdout).toContain("context 512 × 2 sequences");
    expect(io.stdout).toMatch(new RegExp(`Chosen: ${m20.f16.replaceAll(".", "\\.")} \\(F16\\)`));
    const bad = capture();
    expect(await runCli(["model", "fit", m20.q4_0, "--context", "lots"], [command], bad)).toBe(2);
    expect(bad.stderr).toContain("--context");
  });
});
