/**
 * Choosing the file of a release for this board before downloading it: the fit logic reads each
 * candidate's GGUF header, fetched by Range over real HTTP into a sparse stand-in. With room for
 * both the CPU-preferred Q4_0 wins and only it is downloaded; with room for neither the release is
 * refused (model_over_budget) before a byte of weights is fetched.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { HearthError } from "../../../runtime/errors.ts";
import { fitModel } from "../../../runtime/model/fit.ts";
import { ggufHeaderEnd } from "../../../ota/agent/gguf-prefix.ts";
import { pickFile } from "../../../ota/agent/pick-file.ts";
import { fileUrls } from "../../../ota/verify/urls.ts";
import type { Manifest } from "../../../ota/schema/manifest.ts";
import { testModel } from "../../helpers/models.ts";
import { cleanUp, keep, otaFlags, startBox, testRepo, tmp, type TestRepo } from "./fixture.ts";

let repo: TestRepo | null = null;
let published: Manifest | null = null;
afterAll(cleanUp);

describe("ggufHeaderEnd", () => {
  test("null until the prefix holds every metadata entry and tensor info; the same end from any longer prefix", async () => {
    const bytes = new Uint8Array(readFileSync(await testModel({ seed: 1 })));
    const end = ggufHeaderEnd(bytes)!;
    expect(end).toBeGreaterThan(1000);
    expect(end).toBeLessThan(bytes.byteLength);
    expect(ggufHeaderEnd(bytes.subarray(0, end))).toBe(end);
    expect(ggufHeaderEnd(bytes.subarray(0, end - 1))).toBeNull();
    expect(ggufHeaderEnd(bytes.subarray(0, 10))).toBeNull();
    expect(() => ggufHeaderEnd(new TextEncoder().encode("GGML and then some more bytes"))).toThrow("bad magic");
  });
});

describe("pickFile over HTTP", () => {
  test("a box downloads only the file the fit logic prefers (Q4_0 over F16 on a CPU)", async () => {
    const [factory, f16, q4] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 }), testModel({ seed: 2, type: "q4_0" })]);
    repo = keep(await testRepo());
    const { manifest } = await repo.publish(f16, { version: "1.1.0", files: [f16, q4] });
    published = manifest;
    const box = keep(await startBox(tmp(), factory, otaFlags(repo)));
    await box.ota.apply();
    const record = await box.ota.settled();
    expect(record).toMatchObject({ state: "committed", release: { quantization: "Q4_0" } });
    const [f16File, q4File] = manifest.files;
    const fetched = repo.requests.filter((r) => r.path.startsWith("/files/"));
    // Both headers were read by Range; only the chosen file came whole.
    expect(fetched.filter((r) => r.range?.startsWith("bytes=0-")).map((r) => r.path).sort()).toEqual([`/${f16File!.urls[0]}`, `/${q4File!.urls[0]}`].sort());
    expect(fetched.filter((r) => r.range === null).map((r) => r.path)).toEqual([`/${q4File!.urls[0]}`]);
  }, 60_000);

  test("no file fits: model_over_budget, naming the need and the budget", async () => {
    const release = published!;
    const target = { memoryBudgetBytes: 10_000_000, arch: process.arch, cpuFeatures: [], gpu: null };
    const err = await pickFile(release, {
      fetch: (u, i) => fetch(u, i),
      choose: (paths) => fitModel(paths, target, { contextSize: 256, sequences: 2 }),
      urlsOf: (f) => fileUrls(repo!.url, f),
      tmpDir: tmp(),
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthError);
    expect(err).toMatchObject({ code: "model_over_budget" });
    expect((err as Error).message).toContain("no file of demo 1.1.0 fits this box");
    expect((err as Error).message).toContain("budget is 10.0 MB");
  });
});
