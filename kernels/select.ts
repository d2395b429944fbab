import { predictCpuVariant } from "./cpu-variants.ts";
import type { KernelCatalog, PrebuiltName } from "./catalog.ts";
import { RECIPES } from "./recipes.ts";

/** What kernel selection needs to know about the hardware (the board module reports it). */
export interface KernelHost {
  boardKind: string;
  arch: string;
  cpuFeatures: readonly string[];
  gpus: readonly { vendor: string; name?: string; unifiedMemory: boolean }[];
}

export type Backend = "cpu" | "cuda" | "vulkan";

export interface KernelChoice {
  /** "prebuilt:linux-x64", "recipe:jetson-cuda", … */
  id: string;
  backend: Backend;
  /** The CPU variant ggml will pick inside the build, where known. */
  cpuVariant: string | null;
  recipe: string | null;
  reasons: string[];
  /** What to run if this build fails to load or to evaluate: always a CPU build. */
  fallback: KernelChoice | null;
}

function cpuChoice(host: KernelHost, catalog: KernelCatalog, reasons: string[]): KernelChoice {
  const name: PrebuiltName | null =
    host.arch === "x64" ? "linux-x64" : host.arch === "arm64" ? "linux-arm64" : host.arch === "arm" ? "linux-armv7l" : null;
  const variant = predictCpuVariant(host.arch, host.cpuFeatures);
  const why = [...reasons];
  if (variant) {
    why.push(
      `ggml will pick its ${variant.variant} CPU kernels` +
        (variant.missingForNext.length ? ` (the next variant needs ${variant.missingForNext.join(", ")})` : " (the best there is)"),
    );
  }
  if (!name || !catalog.prebuilt.has(name)) why.push(`no prebuilt llama.cpp for ${host.arch} is installed; node-llama-cpp will look for a local build`);
  return { id: `prebuilt:${name ?? host.arch}`, backend: "cpu", cpuVariant: variant?.variant ?? null, recipe: null, reasons: why, fallback: null };
}

function recipeChoice(id: string, host: KernelHost, catalog: KernelCatalog, reason: string): KernelChoice | null {
  const recipe = RECIPES[id]!;
  if (!catalog.recipes.has(id)) return null;
  return {
    id: `recipe:${id}`,
    backend: recipe.gpu === false ? "cpu" : recipe.gpu,
    cpuVariant: null,
    recipe: id,
    reasons: [reason, `built from source by recipe ${id}: ${recipe.purpose}`],
    fallback: cpuChoice(host, catalog, [`fallback for recipe ${id}`]),
  };
}

/**
 * Picks the llama.cpp build for this board. GPU builds always carry a CPU fallback, because a
 * box must never be left without inference (the loader switches on load or smoke failure).
 */
export function selectKernel(host: KernelHost, catalog: KernelCatalog, opts: { allowGpu: boolean }): KernelChoice {
  const nvidia = host.gpus.find((g) => g.vendor === "nvidia");
  const amd = host.gpus.find((g) => g.vendor === "amd" && !g.unifiedMemory);
  const gpuOff = (what: string) => `${what} present but GPU offload is off (config model.gpu or license)`;

  if (host.arch === "arm64" && host.boardKind.startsWith("jetson")) {
    if (!opts.allowGpu) return cpuChoice(host, catalog, [gpuOff("Jetson GPU")]);
    return (
      recipeChoice("jetson-cuda", host, catalog, "Jetson: node-llama-cpp has no CUDA prebuilt for arm64") ??
      cpuChoice(host, catalog, ["Jetson GPU present, but the jetson-cuda recipe was not built into this image: CPU only"])
    );
  }
  if (host.arch === "arm64" && host.boardKind === "rpi5") {
    return (
      recipeChoice("rpi5-a76", host, catalog, "Raspberry Pi 5: Cortex-A76-tuned build") ??
      cpuChoice(host, catalog, ["Raspberry Pi 5: the rpi5-a76 recipe was not built into this image; generic arm64 prebuilt"])
    );
  }
  if (host.arch === "x64" && (nvidia || amd)) {
    const gpu = (nvidia ?? amd)!;
    const label = `${gpu.name ?? gpu.vendor} GPU`;
    if (!opts.allowGpu) return cpuChoice(host, catalog, [gpuOff(label)]);
    const fallback = cpuChoice(host, catalog, [`fallback if the ${label} cannot be used`]);
    if (nvidia && catalog.prebuilt.has("linux-x64-cuda")) {
      return { id: "prebuilt:linux-x64-cuda", backend: "cuda", cpuVariant: null, recipe: null, reasons: [`${label}: CUDA prebuilt`], fallback };
    }
    if (catalog.prebuilt.has("linux-x64-vulkan")) {
      return { id: "prebuilt:linux-x64-vulkan", backend: "vulkan", cpuVariant: null, recipe: null, reasons: [`${label}: Vulkan prebuilt`], fallback };
    }
    return cpuChoice(host, catalog, [`${label} present but no GPU build is installed`]);
  }
  return cpuChoice(host, catalog, [host.gpus.length ? "no GPU llama.cpp can use to advantage" : "no GPU"]);
}
