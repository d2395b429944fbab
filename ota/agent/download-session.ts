/**
 * One file's download state across attempts — the open part file, the running sha256, the offset —
 * and one attempt: a request to one mirror, its answer checked, its body streamed to disk.
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { Clock } from "../../runtime/clock.ts";
import { hasErrno } from "../../runtime/errors.ts";
import type { Timers, TimerHandle } from "../../runtime/telemetry/timers.ts";
import { noSpaceWhileWriting } from "./download-disk.ts";
import { partPath, writeMeta, type Partial, type PartialMeta } from "./download-partial.ts";
import type { ProgressReporter } from "./download-progress.ts";
import type { ByteWindow } from "./download-rate.ts";
import { planResponse, resumeHeaders } from "./download-response.ts";
import { msUntilWindowOpens, type TimeWindow } from "./download-window.ts";
import type { DownloadFailureReason } from "./errors.ts";
import { sleep } from "./wait.ts";

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface SessionEnv {
  fetch: FetchLike;
  clock: Clock;
  timers: Timers;
  progress: ProgressReporter;
  /** Present with a bandwidth cap: the last second's bytes, and the cap per second. */
  limit: { window: ByteWindow; bytesPerSecond: number } | null;
  window: TimeWindow | null;
  /** No byte for this long aborts the attempt; 0 disables (a test's virtual timers). */
  stallTimeoutMs: number;
  syncEveryBytes: number;
  signal: AbortSignal | undefined;
}

export type AttemptOutcome =
  | { kind: "done" }
  /** Bytes arrived, then the body ended early: continue from the new offset. */
  | { kind: "progress"; message: string }
  | { kind: "retry"; reason: "network" | "stalled"; message: string; retryAfterMs: number | null }
  | { kind: "mirror_failed"; reason: DownloadFailureReason; message: string }
  | { kind: "validator_changed"; message: string }
  | { kind: "window_closed" };

export class DownloadSession {
  /** Bytes fetched over the network by this session (not the resumed ones). */
  fetched = 0;
  private sinceSync = 0;

  private constructor(
    private readonly dest: string,
    private readonly want: { sha256: string; size: number },
    private fh: FileHandle,
    public offset: number,
    private hash: Hash,
    private meta: PartialMeta | null,
  ) {}

  /** Continues `partial` (from openPartial); creates the part file. */
  static async open(dest: string, want: { sha256: string; size: number }, partial: Partial): Promise<DownloadSession> {
    // Append mode: every write lands at the end, which is the offset; truncate(0) restarts.
    const fh = await open(partPath(dest), "a");
    return new DownloadSession(dest, want, fh, partial.offset, partial.hash, partial.meta);
  }

  /** Drops the bytes so far (the server's file changed, or it ignored the range). */
  async restart(): Promise<void> {
    await this.fh.truncate(0);
    this.offset = 0;
    this.hash = createHash("sha256");
  }

  /** fsyncs the part, closes it and returns its sha256. */
  async finish(): Promise<string> {
    await this.fh.sync();
    await this.close();
    return this.hash.digest("hex");
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined); // already closed after finish()
  }

  async attempt(url: string, env: SessionEnv): Promise<AttemptOutcome> {
    const recorded = this.meta?.url === url ? this.meta : null;
    const ctrl = new AbortController();
    const abort = () => ctrl.abort();
    env.signal?.addEventListener("abort", abort, { once: true });
    let stalled = false;
    let watchdog: TimerHandle | null = null;
    const disarm = () => (watchdog === null ? undefined : env.timers.clearTimeout(watchdog));
    const arm = () => {
      disarm();
      if (env.stallTimeoutMs > 0) watchdog = env.timers.setTimeout(() => ((stalled = true), ctrl.abort()), env.stallTimeoutMs);
    };
    let got = 0;
    try {
      arm();
      const headers = { ...resumeHeaders(this.offset, this.want.size, recorded), "accept-encoding": "identity" };
      const res = await env.fetch(url, { headers, signal: ctrl.signal, redirect: "follow" });
      const plan = planResponse(res, this.offset, this.want.size, recorded);
      if (plan.kind !== "body") {
        await res.body?.cancel().catch(() => undefined);
        return plan;
      }
      if (plan.restart) await this.restart();
      this.recordValidator(url, plan.validator.etag, plan.validator.lastModified);
      if (!res.body) return { kind: "retry", reason: "network", message: "response without a body", retryAfterMs: null };
      const reader = res.body.getReader();
      for (;;) {
        if (env.limit) {
          for (let d; (d = env.limit.window.delayFor(env.limit.bytesPerSecond)) > 0; ) {
            disarm();
            await sleep(env.timers, d, env.signal);
            arm();
          }
        }
        // Between chunks: a window that closed (possibly during the cap's wait) pauses the download.
        if (env.window && msUntilWindowOpens(env.window, env.clock.now()) > 0) {
          ctrl.abort();
          return { kind: "window_closed" };
        }
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        if (got + value.byteLength > plan.length) {
          ctrl.abort(); // drop the connection: never read past the declared size
          return { kind: "mirror_failed", reason: "too_many_bytes", message: `the server sent more than the ${plan.length} bytes of the range at ${plan.start}` };
        }
        await this.append(value, env.syncEveryBytes);
        got += value.byteLength;
        env.limit?.window.record(value.byteLength);
        env.progress.onBytes(value.byteLength, this.offset);
      }
      if (got < plan.length) return this.ended(got, `the body ended after ${got} of ${plan.length} bytes`);
      return this.offset === this.want.size ? { kind: "done" } : { kind: "progress", message: "a partial range" };
    } catch (err) {
      if (env.signal?.aborted) throw env.signal.reason;
      if (hasErrno(err, "ENOSPC")) throw noSpaceWhileWriting(dirname(this.dest), err);
      if (stalled) return got > 0 ? { kind: "progress", message: "stalled" } : { kind: "retry", reason: "stalled", message: `no data for ${env.stallTimeoutMs} ms`, retryAfterMs: null };
      return this.ended(got, (err as Error)?.message ?? String(err));
    } finally {
      disarm();
      env.signal?.removeEventListener("abort", abort);
    }
  }

  private ended(got: number, message: string): AttemptOutcome {
    return got > 0 ? { kind: "progress", message } : { kind: "retry", reason: "network", message, retryAfterMs: null };
  }

  private recordValidator(url: string, etag: string | null, lastModified: string | null): void {
    const m = this.meta;
    if (m && m.url === url && m.etag === etag && m.lastModified === lastModified) return;
    this.meta = { format: 1, sha256: this.want.sha256, size: this.want.size, url, etag, lastModified };
    writeMeta(this.dest, this.meta);
  }

  private async append(chunk: Uint8Array, syncEvery: number): Promise<void> {
    this.hash.update(chunk);
    for (let off = 0; off < chunk.byteLength; ) off += (await this.fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
    this.offset += chunk.byteLength;
    this.fetched += chunk.byteLength;
    this.sinceSync += chunk.byteLength;
    // Bound what a power cut can take back; a SIGKILL loses nothing written (page cache).
    if (this.sinceSync >= syncEvery) {
      this.sinceSync = 0;
      await this.fh.sync();
    }
  }
}
