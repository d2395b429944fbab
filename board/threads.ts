import type { Cpu } from "./schema.ts";

/**
 * Default inference threads: performance cores only, because llama.cpp splits each step evenly
 * across its threads and the slowest core sets the pace. On small homogeneous CPUs one core is
 * left to the runtime's JS thread (tokenizing, streaming, HTTP): llama.cpp's workers spin while
 * they wait, so with every core taken that thread is starved (see resolveThreads in
 * runtime/engine/llama-engine.ts: on 2 cores, 2 threads ran a small model ~200x slower than 1).
 */
export function defaultThreads(cpu: Cpu): { threads: number; why: string } {
  const perf = cpu.performanceCores;
  const cores = `${perf} performance core${perf === 1 ? "" : "s"}${cpu.model ? ` (${cpu.model})` : ""}`;
  if (perf <= 0) return { threads: 1, why: "core count unknown: 1 thread, the only count sure to exist" };
  if (cpu.efficiencyCores > 0) {
    return {
      threads: perf,
      why: `${cores}: the ${cpu.efficiencyCores} efficiency cores are left out (the slowest core paces every step) and host the runtime's JS thread`,
    };
  }
  if (perf <= 4) {
    return {
      threads: Math.max(1, perf - 1),
      why:
        `${cores}, all alike: one is left to the runtime's JS thread, which spinning llama.cpp workers would otherwise starve; ` +
        "token generation is memory-bound on such boards, so the last core adds little",
    };
  }
  return { threads: perf, why: `${cores}, all alike: with more than 4 the runtime's JS thread fits between the workers` };
}
