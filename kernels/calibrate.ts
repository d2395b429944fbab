import { GgufInsights, readGgufFileInfo, type Llama, type LlamaModel, type Token } from "node-llama-cpp";

/** One combination of the settings that decide llama.cpp's speed on a given unit. */
export interface CalibrationPoint {
  threads: number;
  batchSize: number;
  flashAttention: boolean;
  /** Layers offloaded to the GPU; 0 on CPU-only boards. */
  gpuLayers: number;
}

export interface PointResult extends CalibrationPoint {
  /** Prompt processing (prefill), tokens per second. */
  ppTokPerSec: number;
  /** Generation (decode), tokens per second: what a user waits on. */
  tgTokPerSec: number;
}

export interface GridOptions {
  cores: number;
  flashAttentionSupported: boolean;
  /** GPU layer counts to try where a GPU exists (e.g. half and all); [0] on CPU-only boards. */
  gpuLayers?: number[];
}

/** Threads from 1 to all cores, two batch sizes, flash attention on and off where supported. */
export function calibrationGrid(opts: GridOptions): CalibrationPoint[] {
  const threads = Array.from({ length: Math.max(1, opts.cores) }, (_, i) => i + 1);
  const batches = [128, 512];
  const flash = opts.flashAttentionSupported ? [false, true] : [false];
  const layers = opts.gpuLayers?.length ? opts.gpuLayers : [0];
  return layers.flatMap((gpuLayers) =>
    threads.flatMap((t) => batches.flatMap((b) => flash.map((f) => ({ threads: t, batchSize: b, flashAttention: f, gpuLayers })))),
  );
}

/** Whether the model can use flash attention, from its metadata: no need to load the weights. */
export async function flashAttentionSupported(llama: Llama, modelPath: string): Promise<boolean> {
  const info = await readGgufFileInfo(modelPath, { sourceType: "filesystem", logWarnings: false });
  return (await GgufInsights.from(info, llama)).flashAttentionSupported;
}

export interface MeasureOptions {
  contextSize: number;
  promptTokens: number;
  /** Decode at least this many tokens per sample… */
  generateTokens: number;
  /**
   * …and for at least this long (within the context): a fast model's 64 tokens take ~0.2 s, short
   * enough for one scheduler hiccup on a 2-core box to move the result by 10%.
   */
  minDecodeMs?: number;
  /** Repetitions per point; the median is kept (a 2-core box is noisy). */
  repeats: number;
  /** Paired rounds between the two finalists of a calibration (default 5). */
  finalRounds?: number;
  now?: () => number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A prompt of ordinary text, so prefill sees realistic tokens, cut to the wanted length. */
function promptTokens(model: LlamaModel, count: number): Token[] {
  const text = "The clinic's intake notes list the patient's history, medication and the questions for today. ";
  const tokens = model.tokenize(text.repeat(Math.ceil(count / 8) + 1));
  return tokens.slice(0, count);
}

/** Measures one point: a fresh context with its settings, prefill then greedy decode. */
export async function measurePoint(model: LlamaModel, point: CalibrationPoint, opts: MeasureOptions): Promise<PointResult> {
  const now = opts.now ?? (() => performance.now());
  const context = await model.createContext({
    contextSize: opts.contextSize,
    batchSize: point.batchSize,
    threads: point.threads,
    flashAttention: point.flashAttention,
    sequences: 1,
  });
  try {
    const pp: number[] = [];
    const tg: number[] = [];
    const prompt = promptTokens(model, opts.promptTokens);
    for (let r = 0; r < opts.repeats; r++) {
      const sequence = context.getSequence();
      const t0 = now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      const t1 = now();
      let generated = 0;
      const t2 = now();
      const room = opts.contextSize - prompt.length - 1;
      const minMs = opts.minDecodeMs ?? 0;
      for await (const token of sequence.evaluate([prompt.at(-1)!], { temperature: 0 })) {
        void token;
        if (++generated >= room || (generated >= opts.generateTokens && now() - t2 >= minMs)) break;
      }
      const t3 = now();
      pp.push(prompt.length / ((t1 - t0) / 1000));
      tg.push(generated / ((t3 - t2) / 1000));
      sequence.dispose();
    }
    return { ...point, ppTokPerSec: median(pp), tgTokPerSec: median(tg) };
  } finally {
    await context.dispose();
  }
}

/**
 * The best point: fastest generation (what a user waits on); prefill only breaks near-exact ties
 * (1%). A wider tolerance let prefill pick batch 512 over batch 128 on the 100m model although
 * batch 128 decoded 5-10% faster with 2 threads in every bench run.
 */
export function pickBest(results: readonly PointResult[]): PointResult {
  const topTg = Math.max(...results.map((r) => r.tgTokPerSec));
  const near = results.filter((r) => r.tgTokPerSec >= topTg * 0.99);
  return near.reduce((a, b) => (b.ppTokPerSec > a.ppTokPerSec ? b : a));
}

/**
 * Between two finalists measured in the same rounds: the median of per-round ratios. Pairing
 * cancels what drifts over a run (a neighbour's load, the CPU clock), which on a 2-vCPU box moves
 * whole rounds by ±10% and swamps a ratio of two medians. Within 1% is a tie, broken by prefill.
 */
export function pickBetweenPaired(a: readonly PointResult[], b: readonly PointResult[]): 0 | 1 {
  const rounds = Math.min(a.length, b.length);
  const ratios = Array.from({ length: rounds }, (_, r) => a[r]!.tgTokPerSec / b[r]!.tgTokPerSec);
  const ratio = median(ratios);
  if (ratio > 1.01) return 0;
  if (ratio < 1 / 1.01) return 1;
  return median(a.map((x) => x.ppTokPerSec)) >= median(b.map((x) => x.ppTokPerSec)) ? 0 : 1;
}

export interface CalibrationRun {
  points: PointResult[];
  best: PointResult;
  durationMs: number;
}

/**
 * Successive halving: every point is measured once, the faster half again, and so on down to two
 * finalists, round-robin within each stage so drift is spread over the contenders. Samples go
 * where the decision is made: on a noisy small box, near-equal points need many samples to tell
 * apart, clearly slower ones need one. `repeats` is the number of stages' extra samples per finalist.
 */
export async function calibrateModel(
  llama: Llama,
  modelPath: string,
  grid: readonly CalibrationPoint[],
  opts: MeasureOptions & { onProgress?: (done: number, total: number, last: PointResult) => void },
): Promise<CalibrationRun> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const samples = grid.map(() => [] as PointResult[]);
  const stageSizes: number[] = [];
  for (let n = grid.length; ; n = Math.max(2, Math.ceil(n / 2))) {
    stageSizes.push(n);
    if (n <= 2) break;
  }
  const last = stageSizes.length - 1;
  // The final pair is where near-equal points are told apart: more paired rounds there.
  const perStage = (stage: number) => (stage === 0 && last > 0 ? 1 : stage === last ? Math.max(opts.repeats, opts.finalRounds ?? 5) : opts.repeats);
  const total = stageSizes.reduce((sum, n, i) => sum + n * perStage(i), 0);
  let done = 0;
  const summary = (i: number) => ({
    ...grid[i]!,
    ppTokPerSec: median(samples[i]!.map((r) => r.ppTokPerSec)),
    tgTokPerSec: median(samples[i]!.map((r) => r.tgTokPerSec)),
  });
  let contenders = grid.map((_, i) => i);
  for (const [stage, keep] of stageSizes.entries()) {
    const speed = (i: number) => (samples[i]!.length ? summary(i).tgTokPerSec : 0);
    contenders = [...contenders].sort((a, b) => speed(b) - speed(a)).slice(0, keep);
    // The model is loaded once per GPU layer count per stage: the only setting fixed at load.
    for (const gpuLayers of [...new Set(contenders.map((i) => grid[i]!.gpuLayers))]) {
      const model = await llama.loadModel({ modelPath, gpuLayers });
      try {
        const here = contenders.filter((c) => grid[c]!.gpuLayers === gpuLayers);
        for (let round = 0; round < perStage(stage); round++) {
          // Alternate the order each round so neither contender always runs on a warmer cache.
          for (const i of round % 2 ? [...here].reverse() : here) {
            const result = await measurePoint(model, grid[i]!, { ...opts, repeats: 1 });
            samples[i]!.push(result);
            opts.onProgress?.(++done, total, result);
          }
        }
      } finally {
        await model.dispose();
      }
    }
  }
  const points = grid.map((_, i) => summary(i));
  // The choice is made among the finalists: paired per round when they ran in the same rounds.
  const [a, b] = contenders;
  const finalRounds = perStage(last);
  const paired = a !== undefined && b !== undefined && grid[a]!.gpuLayers === grid[b]!.gpuLayers;
  const best = paired
    ? points[[a, b][pickBetweenPaired(samples[a]!.slice(-finalRounds), samples[b]!.slice(-finalRounds))]!]!
    : pickBest(contenders.map((i) => points[i]!));
  return { points, best, durationMs: Math.round(now() - started) };
}
