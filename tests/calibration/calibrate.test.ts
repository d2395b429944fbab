import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Value } from "@sinclair/typebox/value";
import { calibrationGrid, pickBest, pickBetweenPaired, type PointResult } from "../../kernels/calibrate.ts";
import { runCalibration } from "../../runtime/calibration/run.ts";
import { CertificateSchema, certificateMarkdown } from "../../runtime/calibration/certificate.ts";
import { CalibrationStore } from "../../runtime/store/calibrations.ts";
import { openDatabase } from "../../runtime/store/db.ts";
import { modelSha256 } from "../../runtime/model/hash.ts";
import { systemClock } from "../../runtime/clock.ts";
import { sharedLlama } from "../helpers/server.ts";
import { testModel } from "../helpers/models.ts";

const point = (threads: number, batchSize: number, tg: number, pp: number): PointResult => ({
  threads,
  batchSize,
  flashAttention: false,
  gpuLayers: 0,
  tgTokPerSec: tg,
  ppTokPerSec: pp,
});

describe("calibration grid and choice", () => {
  test("the grid covers threads 1..cores, two batch sizes, flash attention where supported, GPU layers where given", () => {
    expect(calibrationGrid({ cores: 2, flashAttentionSupported: false })).toHaveLength(4);
    const full = calibrationGrid({ cores: 4, flashAttentionSupported: true, gpuLayers: [16, 33] });
    expect(full).toHaveLength(4 * 2 * 2 * 2);
    expect(new Set(full.map((p) => p.threads))).toEqual(new Set([1, 2, 3, 4]));
    expect(new Set(full.map((p) => p.gpuLayers))).toEqual(new Set([16, 33]));
  });

  test("the fastest generation wins; prefill breaks only near-exact (1%) ties", () => {
    expect(pickBest([point(1, 128, 100, 500), point(2, 128, 60, 900)]).threads).toBe(1);
    const tie = pickBest([point(1, 128, 100, 500), point(1, 512, 99.5, 800), point(2, 512, 90, 2000)]);
    expect([tie.threads, tie.batchSize]).toEqual([1, 512]);
    const notTie = pickBest([point(1, 128, 100, 500), point(1, 512, 97, 800)]);
    expect(notTie.batchSize).toBe(128);
  });
});

describe("choosing between two finalists from paired rounds", () => {
  test("per-round ratios decide even when drift moves whole rounds", () => {
    // Round speeds drift by ±30%, but `a` is 5% faster than `b` within every round.
    const drift = [1, 0.7, 1.3, 0.8, 1.2];
    const a = drift.map((d) => point(1, 128, 100 * d, 500));
    const b = drift.map((d, r) => point(2, 128, (100 * d) / 1.05 + (r === 2 ? 40 : 0), 900));
    // One round where b got the machine to itself does not outweigh four where a was faster.
    expect(pickBetweenPaired(a, b)).toBe(0);
    expect(pickBetweenPaired(b, a)).toBe(1);
  });

  test("within 1% is a tie, broken by prefill", () => {
    const a = [point(1, 128, 100, 500), point(1, 128, 90, 500), point(1, 128, 110, 500)];
    const b = [point(1, 512, 100.5, 800), point(1, 512, 90.4, 800), point(1, 512, 110, 800)];
    expect(pickBetweenPaired(a, b)).toBe(1);
    expect(pickBetweenPaired(b, a)).toBe(0);
  });
});

describe("runCalibration on this machine", () => {
  test("measures the grid, persists the best under (board, kernel, model hash) and writes a certificate", async () => {
    const db = openDatabase(mkdtempSync(join(tmpdir(), "hearth-cal-")));
    const model = await testModel({ params: "tiny" });
    const progress: number[] = [];
    const cert = await runCalibration(
      db,
      model,
      { board: { kind: "x86", name: "test box" }, kernel: { id: "prebuilt:linux-x64", backend: "cpu", cpuVariant: "haswell" }, llama: await sharedLlama(), cores: 2 },
      { clock: systemClock, onProgress: (done) => progress.push(done) },
    );
    expect(Value.Check(CertificateSchema, cert)).toBe(true);
    expect(cert.grid.length).toBeGreaterThanOrEqual(4);
    // Successive halving: every point once, then the faster halves again, down to two finalists.
    expect(progress).toEqual(Array.from({ length: progress.length }, (_, i) => i + 1));
    expect(progress.length).toBeGreaterThan(cert.grid.length);
    const fastest = Math.max(...cert.grid.map((g) => g.tgTokPerSec));
    // Chosen among the finalists, whose medians rest on more samples than an eliminated point's.
    expect(cert.tgTokPerSec).toBeGreaterThanOrEqual(fastest * 0.9);
    expect(cert.grid).toContainEqual({ ...cert.settings, ppTokPerSec: cert.ppTokPerSec, tgTokPerSec: cert.tgTokPerSec });
    expect(cert.model.sha256).toBe(await modelSha256(db, model));
    expect(cert.peakMemoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    const stored = new CalibrationStore(db).find({ board: "x86", kernel: "prebuilt:linux-x64", modelSha256: cert.model.sha256 });
    expect(stored?.settings).toEqual(cert.settings);
    expect(new CalibrationStore(db).find({ board: "rpi5", kernel: "prebuilt:linux-x64", modelSha256: cert.model.sha256 })).toBeNull();
    const md = certificateMarkdown(cert);
    expect(md).toContain("# Hearth performance certificate");
    expect(md).toContain(cert.model.sha256);
    expect(md.split("\n").filter((l) => l.endsWith(" chosen |"))).toHaveLength(1);
    db.close();
  });

  test("model hashes are cached by size and mtime", async () => {
    const db = openDatabase(mkdtempSync(join(tmpdir(), "hearth-hash-")));
    const model = await testModel({ params: "tiny" });
    const first = await modelSha256(db, model);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(db.prepare("SELECT COUNT(*) AS n FROM model_hashes").get()).toEqual({ n: 1 });
    expect(await modelSha256(db, model)).toBe(first);
    db.close();
  });
});
