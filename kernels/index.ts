export { predictCpuVariant, X64_VARIANTS, ARM64_VARIANTS } from "./cpu-variants.ts";
export { RECIPES, recipeEnv, type Recipe } from "./recipes.ts";
export { scanCatalog, recipeMarker, PREBUILT, type KernelCatalog, type PrebuiltName } from "./catalog.ts";
export { selectKernel, type KernelChoice, type KernelHost, type Backend } from "./select.ts";
export { loadKernel, openKernel, type LoadedKernel, type LoadKernelOptions } from "./load.ts";
