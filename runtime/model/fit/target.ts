/**
 * The hardware a model must fit: a memory budget, the CPU's architecture and features, and the
 * GPU if any. Kept independent of board detection; runtime/hardware.ts derives it from the board
 * report (fitTargetOf).
 */
import { Type, type Static } from "@sinclair/typebox";

export const FitTargetSchema = Type.Object(
  {
    memoryBudgetBytes: Type.Integer({ minimum: 0, description: "System RAM the model may use (weights on CPU, KV cache, buffers)" }),
    arch: Type.String({ description: "CPU architecture as Node names it: x64, arm64, ..." }),
    cpuFeatures: Type.Array(Type.String(), { description: "Normalized CPU features: avx2, avx512f, avx512vnni, neon, dotprod, i8mm, sve, f16c, fma, ..." }),
    gpu: Type.Union([
      Type.Null(),
      Type.Object(
        {
          vramBytes: Type.Integer({ minimum: 0, description: "Memory the GPU may use for the model" }),
          unifiedMemory: Type.Boolean({ description: "GPU allocations come out of system RAM (Jetson)" }),
          offload: Type.Union([Type.Literal("all"), Type.Literal("fit")], {
            description: "all: every layer on the GPU or the file does not fit; fit: as many layers as fit in VRAM",
          }),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

export type FitTarget = Static<typeof FitTargetSchema>;

/** Where the target comes from; the CLI's default is the detected board's profile. */
export type FitTargetSource = () => FitTarget | Promise<FitTarget>;
