import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { silentLogger } from "../../log.ts";
import type { KernelChoice } from "../../../kernels/select.ts";

function describe(choice: KernelChoice, indent = ""): string[] {
  const lines = [`${indent}${choice.id} (${choice.backend}${choice.cpuVariant ? `, ggml CPU variant ${choice.cpuVariant}` : ""})`];
  for (const reason of choice.reasons) lines.push(`${indent}  because ${reason}`);
  if (choice.fallback) lines.push(`${indent}  falls back to:`, ...describe(choice.fallback, `${indent}    `));
  return lines;
}

export const kernelsCommand: Command = {
  path: ["kernels"],
  summary: "Show which llama.cpp build this board uses and why (--probe loads it and runs a smoke test)",
  options: {
    root: { type: "string", value: "DIR", description: "Detect from a copied or fixture filesystem tree instead of /" },
    gpu: { type: "boolean", description: "Consider GPU builds (as with config model.gpu)" },
    probe: { type: "boolean", description: "Load the selected build here; report a fallback and its reason" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const { inspectHardware } = await import("../../hardware.ts");
    const { board, kernel } = await inspectHardware({ root: ctx.values.root as string | undefined, allowGpu: ctx.values.gpu === true });
    let probe: { active: string; fallbackReason: string | null } | null = null;
    if (ctx.values.probe) {
      const { loadKernel } = await import("../../../kernels/load.ts");
      const { smokeTest } = await import("../../engine/smoke-test.ts");
      const loaded = await loadKernel(kernel, { logger: silentLogger, smokeTest });
      probe = { active: loaded.active.id, fallbackReason: loaded.fallbackReason };
      await loaded.llama.dispose();
    }
    if (ctx.values.json) {
      ctx.io.out(JSON.stringify({ board: { kind: board.kind, name: board.name }, kernel, probe }));
      return 0;
    }
    const lines = [`Board: ${board.name} (${board.kind})`, "Kernel build:", ...describe(kernel, "  ")];
    if (probe) lines.push(probe.fallbackReason ? `Probe: serving on ${probe.active}; ${probe.fallbackReason}` : `Probe: ${probe.active} loaded and passed its smoke test`);
    ctx.io.out(lines.join("\n"));
    return 0;
  },
};
