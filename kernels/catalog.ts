import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { RECIPES } from "./recipes.ts";

/** node-llama-cpp's prebuilt binary packages, by the folder their binaries live in. */
export const PREBUILT = ["linux-x64", "linux-x64-cuda", "linux-x64-vulkan", "linux-arm64", "linux-armv7l"] as const;
export type PrebuiltName = (typeof PREBUILT)[number];

export interface KernelCatalog {
  prebuilt: ReadonlySet<PrebuiltName>;
  /** Recipes whose build finished (see build-recipe.ts). */
  recipes: ReadonlySet<string>;
}

/** Where build-recipe.ts records a finished recipe build. */
export function recipeMarker(appRoot: string, recipeId: string): string {
  return join(appRoot, "kernels", "built", `${recipeId}.json`);
}

function prebuiltPresent(name: PrebuiltName): boolean {
  try {
    const entry = Bun.resolveSync(`@node-llama-cpp/${name}`, import.meta.dir);
    return existsSync(join(dirname(entry), "..", "bins", name, "llama-addon.node"));
  } catch {
    return false;
  }
}

/** What is installed: the prebuilt packages on disk and the recipe builds that completed. */
export function scanCatalog(appRoot: string = join(import.meta.dir, "..")): KernelCatalog {
  return {
    prebuilt: new Set(PREBUILT.filter(prebuiltPresent)),
    recipes: new Set(Object.keys(RECIPES).filter((id) => existsSync(recipeMarker(appRoot, id)))),
  };
}
