/**
 * Which of a base-model release's files (one per quantization) this board downloads, chosen by the
 * fit logic (runtime/model/fit.ts) before a byte of weights is fetched: each candidate's GGUF
 * header is fetched by Range into a sparse stand-in of the declared size (the header, then a hole),
 * which the fit logic reads as it would the file. The header bytes are not yet hash-verified, so
 * they only steer the choice: the downloaded file is verified and fit-checked again whole.
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { HearthError } from "../../runtime/errors.ts";
import type { FitDecision } from "../../runtime/model/fit.ts";
import type { Manifest, ReleaseFile } from "../verify/index.ts";
import type { FetchLike } from "./download-session.ts";
import { downloadFailed } from "./errors.ts";
import { ggufHeaderEnd } from "./gguf-prefix.ts";

export interface PickDeps {
  fetch: FetchLike;
  /** The fit logic over several files of one model, on this board, for the primary's context. */
  choose: (paths: string[]) => Promise<FitDecision>;
  /** The file's URLs (fileUrls with the repository). */
  urlsOf: (file: ReleaseFile) => string[];
  /** Where the stand-ins go (same filesystem as the data dir; removed afterwards). */
  tmpDir: string;
  timeoutMs: number;
}

export interface Picked {
  file: ReleaseFile;
  /** The fit logic's explanation, or why there was nothing to choose. */
  reason: string;
}

const FIRST_PREFIX = 1 << 20;
/** A header larger than this (a vocabulary of millions) is not judged: the file is refused. */
const MAX_PREFIX = 64 << 20;

/** The first `n` bytes of the file, from its first mirror that answers. */
async function prefixOf(deps: PickDeps, file: ReleaseFile, n: number): Promise<Uint8Array> {
  let last: unknown = null;
  for (const url of deps.urlsOf(file)) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), deps.timeoutMs);
    try {
      const res = await deps.fetch(url, { headers: { range: `bytes=0-${n - 1}`, "accept-encoding": "identity" }, signal: ctrl.signal });
      if (res.status !== 200 && res.status !== 206) throw new Error(`HTTP ${res.status}`);
      const out = new Uint8Array(n);
      let got = 0;
      const reader = res.body!.getReader();
      while (got < n) {
        const { value, done } = await reader.read();
        if (done) break;
        const take = Math.min(value.byteLength, n - got);
        out.set(value.subarray(0, take), got);
        got += take;
      }
      ctrl.abort(); // a 200 carries the whole file: stop after the prefix
      return out.subarray(0, got);
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
  }
  throw downloadFailed("network", `${file.name}: its header could not be fetched from any mirror (${(last as Error)?.message ?? "no http(s) URL"})`);
}

/** A sparse file of `file.size` bytes holding the header. */
async function standIn(deps: PickDeps, file: ReleaseFile): Promise<string> {
  for (let n = Math.min(FIRST_PREFIX, file.size); ; n = Math.min(n * 4, file.size, MAX_PREFIX)) {
    const prefix = await prefixOf(deps, file, n);
    let end: number | null;
    try {
      end = ggufHeaderEnd(prefix);
    } catch (err) {
      throw new HearthError("gguf_invalid", `${file.name}: ${(err as Error).message}`);
    }
    if (end !== null) {
      const path = join(deps.tmpDir, file.name);
      const fh = await open(path, "w");
      try {
        await fh.write(prefix, 0, prefix.byteLength, 0);
        await fh.truncate(file.size);
      } finally {
        await fh.close();
      }
      return path;
    }
    if (prefix.byteLength < n || n >= Math.min(file.size, MAX_PREFIX)) {
      throw new HearthError("gguf_invalid", `${file.name}: no complete GGUF header in its first ${prefix.byteLength} bytes`);
    }
  }
}

export async function pickFile(manifest: Manifest, deps: PickDeps): Promise<Picked> {
  const files = manifest.files;
  if (files.length === 1 || manifest.kind === "lora") return { file: files[0]!, reason: files.length === 1 ? "the release has one file" : "an adapter's first file" };
  const dir = await mkdtemp(join(deps.tmpDir, "pick-"));
  try {
    const paths = new Map<string, ReleaseFile>();
    for (const f of files) paths.set(await standIn({ ...deps, tmpDir: dir }, f), f);
    const decision = await deps.choose([...paths.keys()]);
    const chosen = decision.chosen === null ? undefined : paths.get(decision.chosen);
    if (!chosen) throw new HearthError("model_over_budget", `no file of ${manifest.name} ${manifest.version} fits this box: ${decision.reason}`);
    return { file: chosen, reason: decision.reason.replaceAll(`${dir}/`, "") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
