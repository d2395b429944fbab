/**
 * Deterministic weight streams for a synthetic llama model. Each tensor draws from its own PRNG
 * stream (seed + tensor name), so a tensor's values never depend on chunking or on other tensors,
 * and values are produced a few rows at a time straight into the writer. The token embedding and
 * output matrices additionally get the designed structure from steering.ts.
 */
import type { TensorSource, TensorType } from "./gguf/index.ts";
import { llamaTensorShapes, type LlamaDims } from "./presets.ts";
import { hashString, Rng } from "./rng.ts";
import { buildSteering } from "./steering.ts";
import type { Vocab } from "./vocab.ts";

export const WEIGHT_STD = 0.02;
const CHUNK_ELEMENTS = 1 << 16;

type RowAdds = Map<number, [number, number][]>;

export function llamaTensors(dims: LlamaDims, vocab: Vocab, type: TensorType, seed: number): TensorSource[] {
  const steering = buildSteering(dims, vocab, WEIGHT_STD);
  const adds: Record<string, RowAdds> = { "token_embd.weight": steering.embed, "output.weight": steering.output };
  return llamaTensorShapes(dims).map(({ name, shape, norm }) => ({
    name,
    shape,
    // Norm weights stay f32 (and 1.0) as in real llama files; ggml only quantizes matrices.
    type: norm ? "f32" : type,
    values: norm ? () => [new Float32Array(shape[0]!).fill(1)] : () => normalRows(shape, seed, name, WEIGHT_STD, adds[name]),
  }));
}

/** N(0, std^2) values of tensor `name` in storage order, from its own stream (seed + name). */
export function* normalRows(shape: readonly number[], seed: number, name: string, std: number, adds?: RowAdds): Generator<Float32Array> {
  const rowLen = shape[0]!;
  const rows = shape.slice(1).reduce((a, b) => a * b, 1);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / rowLen));
  const buf = new Float32Array(rowsPerChunk * rowLen);
  const rng = new Rng(seed, hashString(name));
  for (let row = 0; row < rows; row += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - row);
    const chunk = buf.subarray(0, n * rowLen);
    rng.fillNormal(chunk, std);
    if (adds) {
      for (let r = 0; r < n; r++) {
        for (const [dim, v] of adds.get(row + r) ?? []) chunk[r * rowLen + dim] = v + chunk[r * rowLen + dim]!;
      }
    }
    yield chunk;
  }
}
