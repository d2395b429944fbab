/**
 * OTA agent test kit: temp dirs, virtual time (a Clock and Timers whose waits complete at once
 * and move the clock forward), and a fetch tap that records when each body chunk was read.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../../runtime/clock.ts";
import { createLogger, type Logger } from "../../../runtime/log.ts";
import type { Timers } from "../../../runtime/telemetry/timers.ts";
import type { FetchLike } from "../../../ota/agent/download.ts";
import { tempDirs } from "../../helpers/temp-dirs.ts";

const temp = tempDirs("hearth-ota-agent-");
export const tmp = (): string => temp.make();
export const removeTempDirs = temp.removeAll;

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

export function randomFile(size: number): { data: Uint8Array; sha256: string } {
  const data = new Uint8Array(randomBytes(size));
  return { data, sha256: sha256(data) };
}

export function testLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) }), lines };
}

/**
 * Virtual time: `setTimeout(fn, ms)` runs `fn` on the next macrotask with the clock moved `ms`
 * ahead, so back-off, bandwidth and window waits cost no wall time. Only for code whose timers are
 * all waits (the downloader with stallTimeoutMs 0): a watchdog timer would fire at once.
 */
export class VirtualTime implements Clock, Timers {
  private elapsed = 0;
  private seq = 0;
  private readonly pending = new Map<number, { due: number; fn: () => void }>();
  /** Every wait requested, in ms, in order. */
  readonly waits: number[] = [];

  constructor(private readonly startEpochMs = Date.UTC(2026, 0, 15, 12)) {}

  now(): number {
    return this.startEpochMs + this.elapsed;
  }

  monotonic(): number {
    return this.elapsed;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.pending.set(id, { due: this.elapsed + ms, fn });
    this.waits.push(ms);
    setImmediate(() => this.fireNext());
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  private fireNext(): void {
    const next = [...this.pending.entries()].sort((x, y) => x[1].due - y[1].due)[0];
    if (!next) return;
    this.pending.delete(next[0]);
    this.elapsed = Math.max(this.elapsed, next[1].due);
    next[1].fn();
  }
}

export interface ChunkRead {
  /** The clock's monotonic() when the downloader read the chunk. */
  at: number;
  /** Its clock.now(), for time-of-day checks. */
  wall: number;
  bytes: number;
}

/**
 * Wraps fetch so each response body is handed out in pieces of at most `split` bytes (like a slow
 * link) and every read is recorded with the clock's time.
 */
export function tappedFetch(clock: Clock, split = 64 * 1024): { fetch: FetchLike; reads: ChunkRead[] } {
  const reads: ChunkRead[] = [];
  const wrapped: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    if (!res.body) return res;
    const upstream = res.body.getReader();
    let rest: Uint8Array | null = null;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          if (!rest || rest.byteLength === 0) {
            const { value, done } = await upstream.read();
            if (done) return c.close();
            rest = value;
          }
          const piece = rest.subarray(0, split);
          rest = rest.subarray(piece.byteLength);
          reads.push({ at: clock.monotonic(), wall: clock.now(), bytes: piece.byteLength });
          c.enqueue(piece);
        },
        cancel: (reason) => upstream.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: wrapped, reads };
}
