import { describe, expect, test } from "bun:test";
import { LlamaChatSession } from "node-llama-cpp";
import { loadKernel } from "../../kernels/load.ts";
import { selectKernel } from "../../kernels/select.ts";
import { scanCatalog } from "../../kernels/catalog.ts";
import { recipeCommands } from "../../kernels/build-recipe.ts";
import { RECIPES } from "../../kernels/recipes.ts";
import { testModel } from "../helpers/models.ts";

const warnings: string[] = [];
const logger = { warn: (m: string, f?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(f)}`), error: () => undefined };

describe("kernel loading", () => {
  test("a GPU build that cannot load here falls back to CPU, says why, and the fallback serves", async () => {
    // This machine has no GPU: the CUDA prebuilt is installed but cannot initialise. Real failure.
    const choice = selectKernel(
      { boardKind: "x86-nvidia", arch: "x64", cpuFeatures: ["avx2"], gpus: [{ vendor: "nvidia", name: "RTX", unifiedMemory: false }] },
      scanCatalog(),
      { allowGpu: true },
    );
    expect(choice.backend).toBe("cuda");
    const loaded = await loadKernel(choice, { logger });
    expect(loaded.active.backend).toBe("cpu");
    expect(loaded.llama.gpu).toBe(false);
    expect(loaded.fallbackReason).toContain("prebuilt:linux-x64-cuda failed");
    expect(warnings.join("\n")).toContain("kernel fallback");
    const model = await loaded.llama.loadModel({ modelPath: await testModel() });
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const reply = await new LlamaChatSession({ contextSequence: ctx.getSequence() }).prompt("hi", { maxTokens: 4 });
    expect(typeof reply).toBe("string");
    await ctx.dispose();
    await model.dispose();
    await loaded.llama.dispose();
  });

  test("a build that loads but fails its smoke evaluation also falls back", async () => {
    const cpu = selectKernel({ boardKind: "x86", arch: "x64", cpuFeatures: [], gpus: [] }, scanCatalog(), { allowGpu: true });
    const pretendGpu = { ...cpu, id: "prebuilt:pretend-gpu", fallback: cpu };
    const loaded = await loadKernel(pretendGpu, {
      logger,
      smokeTest: async () => {
        throw new Error("generated NaN logits");
      },
    });
    expect(loaded.active.id).toBe(cpu.id);
    expect(loaded.fallbackReason).toBe("prebuilt:pretend-gpu failed: generated NaN logits");
    await loaded.llama.dispose();
  });

  test("a CPU build has no fallback: its failure is reported, not hidden", async () => {
    const cpu = selectKernel({ boardKind: "x86", arch: "x64", cpuFeatures: [], gpus: [] }, scanCatalog(), { allowGpu: true });
    await expect(loadKernel(cpu, { logger, open: async () => Promise.reject(new Error("no binding")) })).rejects.toThrow("no binding");
  });

  test("recipes become node-llama-cpp source commands with their CMake options in the environment", () => {
    const { env, argv } = recipeCommands(RECIPES["jetson-cuda"]!);
    expect(env).toMatchObject({ NODE_LLAMA_CPP_CMAKE_OPTION_GGML_CUDA: "ON", NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_CUDA_ARCHITECTURES: "87" });
    expect(argv[0]!.slice(-3)).toEqual(["download", "--skipBuild", "--noUsageExample"]);
    expect(argv[1]!).toContain("cuda");
  });
});
