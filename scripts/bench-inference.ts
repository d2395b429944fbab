#!/usr/bin/env bun
/**
 * bench:inference: HTTP streaming vs node-llama-cpp in-process on the same model and settings,
 * side by side in one run (interleaved), medians reported; plus 4-stream aggregate throughput,
 * idle RSS of `hearth serve` and time from process start to /healthz.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { LlamaChat, getLlama, LlamaLogLevel } from "node-llama-cpp";
import { synthesizeModel } from "../runtime/model/synth.ts";
import { resolveThreads } from "../runtime/engine/threads.ts";

const CLI = join(import.meta.dir, "..", "runtime", "cli", "main.ts");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const MAX_TOKENS = Number(process.env.BENCH_TOKENS ?? 128);
const PARAMS = (process.env.BENCH_PARAMS ?? "100m") as "tiny" | "20m" | "100m";
const CONTEXT = 1024;
const PARALLEL = 4;
/** BENCH_THREADS unset: the runtime's default for the model; both sides always use the same count. */
const THREADS_SETTING = Number(process.env.BENCH_THREADS ?? 0);
const PROMPT = "Summarise the attached intake notes for the clinic's morning meeting in three short bullet points.";

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function model(params: "tiny" | "20m" | "100m"): Promise<string> {
  const dir = join(tmpdir(), "hearth-bench-models");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${params}-f16-seed1.gguf`);
  if (!existsSync(out)) await synthesizeModel({ out, params, type: "f16", seed: 1 });
  return out;
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

async function serve(modelPath: string, extra: string[] = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-"));
  const keyOut = Bun.spawnSync([process.execPath, CLI, "keys", "create", "--name", "bench", "--data-dir", dataDir, "--json"]);
  const key = JSON.parse(keyOut.stdout.toString()).key as string;
  const port = await freePort();
  const started = performance.now();
  // Settings are given explicitly (same as in-process), so no calibration runs.
  const proc = Bun.spawn([process.execPath, CLI, "serve", "--model", modelPath, "--data-dir", dataDir, "--port", String(port), "--context-size", String(CONTEXT), ...extra], {
    env: { ...process.env, HEARTH_CALIBRATION_AUTO: "false" },
    stdout: "ignore",
    stderr: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    await Bun.sleep(2);
  }
  const healthzMs = performance.now() - started;
  while ((await fetch(`${url}/readyz`)).status !== 200) await Bun.sleep(5);
  const readyzMs = performance.now() - started;
  const id = (await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()).data[0].id as string;
  return { proc, url, key, id, healthzMs, readyzMs };
}

/**
 * tokPerSec: tokens over the whole request, from sending it to the last token. Not the rate after
 * the first token: the server writes SSE events in bursts, so a client's "first token" can arrive
 * late together with several more, which made HTTP look up to 36% faster than in-process.
 */
type Sample = { ttftMs: number; tokens: number; tokPerSec: number };

async function httpStream(s: { url: string; key: string; id: string }): Promise<Sample> {
  const t0 = performance.now();
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: s.id, messages: [{ role: "user", content: PROMPT }], max_tokens: MAX_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let first = 0;
  let last = 0;
  let buf = "";
  let tokens = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    if (!first && buf.includes('"content":"') && /"content":"[^"]/.test(buf)) first = performance.now();
    last = performance.now();
    const usage = buf.match(/"completion_tokens":(\d+)/);
    if (usage) tokens = Number(usage[1]);
  }
  return { ttftMs: first - t0, tokens, tokPerSec: tokens / ((last - t0) / 1000) };
}

async function main() {
  const path = await model(PARAMS);
  const THREADS = resolveThreads(THREADS_SETTING, statSync(path).size);
  const tinyPath = await model("tiny");

  // In-process: node-llama-cpp with the same context size and sampling.
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const m = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  // Same settings as `hearth serve`: its default thread count and the same context size.
  const ctx = await m.createContext({ contextSize: CONTEXT, sequences: PARALLEL, threads: THREADS });
  const seq = ctx.getSequence();
  const inProcess = async (): Promise<Sample> => {
    // No clearHistory: the server's slot keeps the evaluated prompt too, so both reuse it.
    const chat = new LlamaChat({ contextSequence: seq });
    const before = seq.tokenMeter.getState();
    const t0 = performance.now();
    let first = 0;
    await chat.generateResponse([{ type: "user", text: PROMPT }, { type: "model", response: [] }], {
      maxTokens: MAX_TOKENS,
      temperature: 0,
      onTextChunk: (t) => {
        if (!first && t) first = performance.now();
      },
    });
    const end = performance.now();
    chat.dispose();
    const tokens = seq.tokenMeter.diff(before).usedOutputTokens;
    return { ttftMs: first - t0, tokens, tokPerSec: tokens / ((end - t0) / 1000) };
  };

  const server = await serve(path, ["--parallel", String(PARALLEL), "--queue-size", "8", "--threads", String(THREADS)]);
  const http: Sample[] = [];
  const local: Sample[] = [];
  await httpStream(server); // warm-up both paths
  await inProcess();
  for (let i = 0; i < RUNS; i++) {
    local.push(await inProcess());
    http.push(await httpStream(server));
    progress(`run ${i + 1}/${RUNS}: in-process ${round(local.at(-1)!.tokPerSec)} tok/s, HTTP ${round(http.at(-1)!.tokPerSec)} tok/s`);
  }
  await ctx.dispose();
  await m.dispose();

  // 4 streams against one, paired per round (drift on a shared 2-vCPU box moves whole rounds),
  // both as tokens over wall time from sending to the last byte, prefill included.
  const aggregate: number[] = [];
  const aggregateRatio: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const one = await httpStream(server);
    const t0 = performance.now();
    const results = await Promise.all([0, 1, 2, 3].map(() => httpStream(server)));
    const secs = (performance.now() - t0) / 1000;
    aggregate.push(results.reduce((a, r) => a + r.tokens, 0) / secs);
    aggregateRatio.push(aggregate.at(-1)! / one.tokPerSec);
    progress(`round ${i + 1}/${RUNS}: 4 streams ${round(aggregate.at(-1)!)} tok/s = ${round(aggregateRatio.at(-1)!)}x one stream`);
  }
  server.proc.kill("SIGTERM");
  await server.proc.exited;

  // Idle RSS and start-to-/healthz with the tiny model.
  const healthz: number[] = [];
  const readyz: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = await serve(tinyPath);
    healthz.push(s.healthzMs);
    readyz.push(s.readyzMs);
    await Bun.sleep(1000);
    const status = readFileSync(`/proc/${s.proc.pid}/status`, "utf8");
    rss.push(Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024);
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }

  const single = median(http.map((s) => s.tokPerSec));
  const report = {
    model: { params: PARAMS, type: "f16", context: CONTEXT, maxTokens: MAX_TOKENS, threads: THREADS, parallel: PARALLEL },
    runs: RUNS,
    inProcess: { tokPerSec: round(median(local.map((s) => s.tokPerSec))), ttftMs: round(median(local.map((s) => s.ttftMs))) },
    http: { tokPerSec: round(single), ttftMs: round(median(http.map((s) => s.ttftMs))) },
    // Paired per run (each run measures both back to back), so drift between runs cancels.
    httpVsInProcess: round(median(http.map((h, i) => h.tokPerSec / local[i]!.tokPerSec)), 3),
    concurrent4: { aggregateTokPerSec: round(median(aggregate)), vsSingleStream: round(median(aggregateRatio), 3) },
    serveTiny: { idleRssMb: round(median(rss), 1), startToHealthzMs: round(median(healthz), 1), startToReadyzMs: round(median(readyz), 1) },
    targets: { httpVsInProcess: ">= 0.95", concurrent4VsSingle: ">= 1.5", idleRssMb: "<= 80", startToHealthzMs: "<= 500" },
  };
  console.log(JSON.stringify(report, null, 2));
  console.log(
    [
      "",
      `                     tok/s      TTFT ms`,
      `in-process          ${String(report.inProcess.tokPerSec).padEnd(10)} ${report.inProcess.ttftMs}`,
      `HTTP streaming      ${String(report.http.tokPerSec).padEnd(10)} ${report.http.ttftMs}`,
      `ratio HTTP/in-proc  ${report.httpVsInProcess}`,
      `4 streams aggregate ${report.concurrent4.aggregateTokPerSec} tok/s (${report.concurrent4.vsSingleStream}x single)`,
      `serve (tiny) idle RSS ${report.serveTiny.idleRssMb} MB, start to /healthz ${report.serveTiny.startToHealthzMs} ms, to /readyz ${report.serveTiny.startToReadyzMs} ms`,
    ].join("\n"),
  );
  await llama.dispose();
}

await main();
