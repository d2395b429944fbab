/**
 * The box's memory budget shared by the models it serves: each loaded model's estimate is taken
 * out, and the next model must fit what is left. Estimates are fit.ts's (MB = 10^6 bytes).
 */
import type { CandidateFit, FitTarget } from "../model/fit.ts";
import { toMB as mb } from "../model/fit/schema.ts";

export interface Shortfall {
  what: "RAM" | "VRAM";
  needMB: number;
  leftMB: number;
  budgetMB: number;
}

export class MemoryLeft {
  private target: FitTarget;
  private readonly taken: { id: string; ramMB: number }[] = [];

  constructor(private readonly whole: FitTarget) {
    this.target = structuredClone(whole);
  }

  /** What is left, as a target the next model is estimated against. */
  remaining(): FitTarget {
    return structuredClone(this.target);
  }

  /** Why `fit` (estimated against remaining()) does not fit what is left; null when it fits. */
  shortfall(fit: CandidateFit): Shortfall | null {
    const ramLeft = mb(this.target.memoryBudgetBytes);
    const gpu = this.target.gpu;
    const overRam = fit.needMB.ram > ramLeft;
    const overVram = gpu !== null && fit.needMB.vram > mb(gpu.vramBytes);
    if (fit.fits && !overRam && !overVram) return null;
    if (overRam || !overVram || !gpu) return { what: "RAM", needMB: fit.needMB.ram, leftMB: ramLeft, budgetMB: mb(this.whole.memoryBudgetBytes) };
    return { what: "VRAM", needMB: fit.needMB.vram, leftMB: mb(gpu.vramBytes), budgetMB: mb(this.whole.gpu?.vramBytes ?? 0) };
  }

  /** Takes a loaded model's estimate out of the budget. */
  take(id: string, fit: CandidateFit): void {
    const ram = fit.needMB.ram * 1e6;
    this.target.memoryBudgetBytes = Math.max(0, Math.floor(this.target.memoryBudgetBytes - ram));
    const gpu = this.target.gpu;
    // With unified memory the GPU's share comes out of the same RAM (and `ram` already counts it).
    if (gpu) gpu.vramBytes = Math.max(0, Math.floor(gpu.vramBytes - (gpu.unifiedMemory ? ram : fit.needMB.vram * 1e6)));
    this.taken.push({ id, ramMB: fit.needMB.ram });
  }

  /** "a" 40.1 MB, "b" 38.2 MB: what the models loaded so far take, for messages. */
  describeTaken(): string {
    return this.taken.map((t) => `${JSON.stringify(t.id)} ${t.ramMB.toFixed(1)} MB`).join(", ");
  }
}
