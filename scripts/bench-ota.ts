#!/usr/bin/env bun
/**
 * bench:ota: one box (`hearth serve`) updates to a ~1 GiB synthesized GGUF served over loopback by
 * `hearth fleet serve-repo`, under a steady stream of inference requests. Reported, median of
 * BENCH_RUNS updates interleaved with as many baselines in the same run:
 *   - download + verify + stage time (apply → the state passes `staged`) vs `curl -o` then
 *     `sha256sum` of the same URL (target ratio ≤ 1.25);
 *   - peak RSS increase of the runtime while it downloads, verifies and stages (target ≤ 64 MB),
 *     and, for information, during the switch (the new model is mapped beside the old one);
 *   - inference requests that failed during the update and switch (target 0).
 *
 * The model: the synthesizer's presets stop at ~100M parameters, so the file is written with the
 * same writer (runtime/model/synth.ts's llamaMetadata + llamaTensors) at f32 with the layer count
 * chosen to reach BENCH_OTA_MB (default 1024); it is a valid llama model that loads and generates.
 * A small BENCH_OTA_MB (e.g. 16) gives a quick smoke run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../runtime/clock.ts";
import { AdminTokenStore } from "../runtime/admin/tokens.ts";
import { writeGgufAtomic } from "../runtime/model/atomic-write.ts";
import { llamaMetadata } from "../runtime/model/llama-metadata.ts";
import { parameterCount, type LlamaDims } from "../runtime/model/presets.ts";
import { synthesizeModel } from "../runtime/model/synth.ts";
import { buildVocab } from "../runtime/model/vocab.ts";
import { llamaTensors } from "../runtime/model/weights.ts";
import { openDatabase } from "../runtime/store/db.ts";

const CLI = join(import.meta.dir, "..", "runtime", "cli", "main.ts");
const TARGET_MB = Number(process.env.BENCH_OTA_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STREAMS = 2;
const progress = (msg: string) => process.stderr.write(`bench:ota: ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const dir = join(tmpdir(), "hearth-bench-models");

/** Llama dims of about `mb` MiB at f32: the layer count fills what the embeddings leave. */
function dimsFor(mb: number): LlamaDims {
  const big = mb >= 256;
  const base = big
    ? { vocabSize: 32000, nEmbd: 1024, nHead: 16, nHeadKv: 4, nFf: 2816 }
    : { vocabSize: 8192, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 768 };
  const dims = { ...base, nLayer: 1, contextLength: 2048, ropeFreqBase: 10000, rmsEps: 1e-5 };
  const perLayer = parameterCount({ ...dims, nLayer: 2 }) - parameterCount(dims);
  const rest = parameterCount(dims) - perLayer;
  return { ...dims, nLayer: Math.max(1, Math.round(((mb * 2 ** 20) / 4 - rest) / perLayer)) };
}

async function releaseModel(): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `ota-${TARGET_MB}mb-f32.gguf`);
  if (existsSync(out)) return out;
  const dims = dimsFor(TARGET_MB);
  progress(`synthesizing ${out} (${dims.nLayer} layers, ${(parameterCount(dims) / 1e6).toFixed(0)}M parameters)`);
  const vocab = buildVocab(dims.vocabSize);
  await writeGgufAtomic(out, { metadata: llamaMetadata({ name: `bench-ota-${TARGET_MB}mb`, type: "f32", dims, vocab }), tensors: llamaTensors(dims, vocab, "f32", 7) });
  return out;
}

const hearth = (args: string[]) => {
  const r = Bun.spawnSync([process.execPath, CLI, ...args, "--json"]);
  if (r.exitCode !== 0) throw new Error(`hearth ${args.join(" ")}: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
};

/** Reads a child's stdout until `pattern` matches; returns the match. */
async function waitFor(proc: { stdout: ReadableStream<Uint8Array> }, pattern: RegExp): Promise<RegExpExecArray> {
  const reader = proc.stdout.getReader();
  let out = "";
  for (;;) {
    const m = pattern.exec(out);
    if (m) return reader.releaseLock(), m;
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before printing ${pattern}: ${out}`);
    out += new TextDecoder().decode(value);
  }
}

/** RSS and anonymous RSS of a process, bytes (Linux /proc). */
function rss(pid: number): { total: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { total: kb("VmRSS"), anon: kb("RssAnon") };
}

async function baseline(url: string, out: string): Promise<number> {
  const t0 = performance.now();
  if (Bun.spawnSync(["curl", "-sf", "-o", out, url]).exitCode !== 0) throw new Error(`curl ${url} failed`);
  if (Bun.spawnSync(["sha256sum", out]).exitCode !== 0) throw new Error("sha256sum failed");
  return performance.now() - t0;
}

async function main() {
  const [release, factory] = await Promise.all([releaseModel(), synthesizeModel({ out: join(dir, "tiny-f16-seed1.gguf"), params: "tiny", type: "f16", seed: 1 }).then((r) => r.path)]);
  const work = mkdtempSync(join(tmpdir(), "hearth-bench-ota-"));
  const repo = join(work, "repo");
  hearth(["fleet", "keygen", "--out", join(work, "k1")]);
  const { root } = hearth(["fleet", "root", "init", "--keys", join(work, "k1"), "--threshold", "1", "--repo", repo]);
  const pinned = root.roles.root.keyIds.map((keyId: string) => ({ keyId, publicKey: root.keys[keyId].publicKey }));
  const serveRepo = Bun.spawn([process.execPath, CLI, "fleet", "serve-repo", repo, "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  const repoUrl = (await waitFor(serveRepo, /at (http:\/\/\S+)\//))[1]!;

  const dataDir = join(work, "box");
  const db = openDatabase(dataDir);
  const token = new AdminTokenStore(db, systemClock).create("bench").token;
  const key = hearth(["keys", "create", "--name", "bench", "--data-dir", dataDir]).key as string;
  db.close();
  const env = { ...process.env, HEARTH_CALIBRATION_AUTO: "false", HEARTH_OTA_REPO: repoUrl, HEARTH_OTA_RELEASE_KEYS: JSON.stringify(pinned), HEARTH_OTA_CHANNEL: "stable", HEARTH_OTA_CHECK_INTERVAL_MINUTES: "0" };
  const box = Bun.spawn([process.execPath, CLI, "serve", "--model", factory, "--data-dir", dataDir, "--port", "0", "--context-size", "256"], { env, stdout: "pipe", stderr: "ignore" });
  const url = (await waitFor(box, /at (http:\/\/\S+)\/v1/))[1]!;
  // The id it answers to now; after a swap the box keeps answering to it (ModelHost aliases).
  const model = ((await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { id: string }[] }).data[0]!.id;
  const admin = async (method: string, path: string) =>
    (await (await fetch(`${url}/admin/api${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined })).json()) as { state: string; message: string | null };

  const samples: { ratio: number; otaMs: number; downloadMs: number; curlMs: number; rssMB: number; anonMB: number; switchRssMB: number; failed: number; requests: number }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const published = hearth(["fleet", "publish", release, "--name", "bench", "--version", `1.${run}.0`, "--channel", "stable", "--key", join(work, "k1"), "--repo", repo]);
    const file = published.manifest.files[0];
    // The request stream runs through the baseline too: both compete with it for the CPU alike.
    let done = false;
    let requests = 0;
    let failed = 0;
    const stream = Array.from({ length: STREAMS }, async () => {
      while (!done) {
        const res = await fetch(`${url}/v1/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model, prompt: "The", max_tokens: 4 }) }).catch(() => null);
        requests++;
        if (res?.status !== 200) failed++;
        await res?.arrayBuffer().catch(() => undefined);
      }
    });
    await Bun.sleep(200);
    const curlMs = await baseline(`${repoUrl}/${file.urls[0]}`, join(work, "curl.gguf"));
    const before = rss(box.pid);
    let peak = before;
    let switchPeak = before;
    const t0 = performance.now();
    const started = await admin("POST", "/updates/apply");
    if (started.state === "failed") throw new Error(`update refused: ${started.message}`);
    let stagedAt = 0;
    let verifyingAt = 0;
    for (let s = started.state; s !== "committed"; s = (await admin("GET", "/updates")).state) {
      if (s === "failed" || s === "rolled-back") throw new Error(`update ${s}: ${(await admin("GET", "/updates")).message}`);
      const now = rss(box.pid);
      if (!verifyingAt && s !== "downloading") verifyingAt = performance.now();
      if (!stagedAt && ["staged", "switching", "health-check"].includes(s)) stagedAt = performance.now();
      if (!stagedAt) peak = { total: Math.max(peak.total, now.total), anon: Math.max(peak.anon, now.anon) };
      else switchPeak = { total: Math.max(switchPeak.total, now.total), anon: Math.max(switchPeak.anon, now.anon) };
      await Bun.sleep(10);
    }
    stagedAt ||= performance.now();
    await Bun.sleep(1000);
    done = true;
    await Promise.all(stream);
    const otaMs = stagedAt - t0;
    const downloadMs = (verifyingAt || stagedAt) - t0;
    samples.push({ ratio: otaMs / curlMs, otaMs, downloadMs, curlMs, rssMB: (peak.total - before.total) / 2 ** 20, anonMB: (peak.anon - before.anon) / 2 ** 20, switchRssMB: (switchPeak.total - before.total) / 2 ** 20, failed, requests });
    progress(`run ${run}: ota ${round(otaMs)} ms (check + download ${round(downloadMs)} ms), curl+sha256sum ${round(curlMs)} ms, RSS +${round((peak.total - before.total) / 2 ** 20)} MB, ${failed}/${requests} failed`);
  }
  box.kill("SIGTERM");
  serveRepo.kill();
  await box.exited;

  const result = {
    fileMB: round(TARGET_MB),
    runs: RUNS,
    downloadVerifyStageMs: round(median(samples.map((s) => s.otaMs))),
    checkAndDownloadMs: round(median(samples.map((s) => s.downloadMs))),
    curlSha256sumMs: round(median(samples.map((s) => s.curlMs))),
    ratio: round(median(samples.map((s) => s.ratio))),
    peakRssIncreaseMB: round(Math.max(...samples.map((s) => s.rssMB))),
    peakAnonRssIncreaseMB: round(Math.max(...samples.map((s) => s.anonMB))),
    switchRssIncreaseMB: round(Math.max(...samples.map((s) => s.switchRssMB))),
    failedRequests: samples.reduce((n, s) => n + s.failed, 0),
    requests: samples.reduce((n, s) => n + s.requests, 0),
    targets: { ratio: "≤ 1.25", peakRssIncreaseMB: "≤ 64", failedRequests: "0" },
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
