/**
 * From-source llama.cpp builds for boards no prebuilt binary serves well, built at image build
 * time from the llama.cpp source node-llama-cpp ships (its git bundle: no network needed).
 * `kernels/build-recipe.ts` runs them; Dockerfile.image calls that. The CMake options are passed
 * the way node-llama-cpp reads them (NODE_LLAMA_CPP_CMAKE_OPTION_<NAME>), and the same options
 * select the build at load time, since node-llama-cpp names local builds after them.
 */
export interface Recipe {
  id: string;
  /** What the build is for, shown in `hearth kernels`. */
  purpose: string;
  arch: "arm64" | "x64";
  gpu: false | "cuda" | "vulkan";
  cmakeOptions: Record<string, string>;
  /** Packages the build host needs (Debian names), for the image's kernels stage. */
  buildDeps: string[];
}

export const RECIPES: Record<string, Recipe> = {
  // Jetson Orin: node-llama-cpp has no CUDA prebuilt for arm64. Ampere GPU = compute 8.7.
  "jetson-cuda": {
    id: "jetson-cuda",
    purpose: "CUDA on Jetson Orin (arm64, L4T), all layers offloaded to the unified-memory GPU",
    arch: "arm64",
    gpu: "cuda",
    cmakeOptions: {
      GGML_CUDA: "ON",
      CMAKE_CUDA_ARCHITECTURES: "87",
      GGML_NATIVE: "OFF",
      GGML_CPU_ARM_ARCH: "armv8.2-a+dotprod+fp16",
    },
    buildDeps: ["cmake", "g++", "cuda-toolkit (from the L4T base image)"],
  },
  // Pi 5: Cortex-A76 has dotprod and fp16 but neither SVE nor i8mm; tuning for the exact core lets
  // the compiler schedule for it, beyond the generic armv8.2 prebuilt variant.
  "rpi5-a76": {
    id: "rpi5-a76",
    purpose: "CPU build tuned for the Raspberry Pi 5's Cortex-A76 (dotprod, fp16)",
    arch: "arm64",
    gpu: false,
    cmakeOptions: {
      GGML_NATIVE: "OFF",
      GGML_CPU_ARM_ARCH: "armv8.2-a+dotprod+fp16",
      CMAKE_C_FLAGS: "-mcpu=cortex-a76",
      CMAKE_CXX_FLAGS: "-mcpu=cortex-a76",
    },
    buildDeps: ["cmake", "g++"],
  },
};

/** Environment that makes node-llama-cpp's `source build` apply a recipe's CMake options. */
export function recipeEnv(recipe: Recipe): Record<string, string> {
  return Object.fromEntries(Object.entries(recipe.cmakeOptions).map(([k, v]) => [`NODE_LLAMA_CPP_CMAKE_OPTION_${k}`, v]));
}
