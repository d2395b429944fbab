/**
 * Which GPU use the license decides. A discrete GPU on an x86 box ("GPU burst") is an SMB feature;
 * a Jetson's integrated GPU is the product itself and boards without a usable GPU have nothing to
 * offload, so neither asks the license. A denial turns the GPU off (the box serves on CPU) and
 * names the missing entitlement; it never stops inference.
 */
import type { BoardReport } from "../../board/index.ts";
import type { EntitlementGate } from "./entitlements.ts";

export interface GpuAllowance {
  allowGpu: boolean;
  /** Why a wanted GPU is not used, naming the entitlement; null when nothing was denied. */
  denied: string | null;
}

export function gpuAllowance(board: BoardReport, wanted: boolean, gate: EntitlementGate): GpuAllowance {
  if (!wanted || board.profile.gpuPolicy !== "fit-vram") return { allowGpu: wanted, denied: null };
  try {
    gate.require("gpu_burst", "GPU offload to this box's discrete GPU");
    return { allowGpu: true, denied: null };
  } catch (err) {
    return { allowGpu: false, denied: (err as Error).message };
  }
}
