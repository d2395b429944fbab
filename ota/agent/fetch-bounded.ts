/**
 * Fetches a small repository document (root, index, manifest) reading at most `maxBytes` + 1
 * bytes: a server that sends more is cut off and the answer marked oversized, never buffered
 * whole (TUF's endless-data attack). Network failures become download_failed (network).
 */
import { downloadFailed } from "./errors.ts";
import type { FetchLike } from "./download-session.ts";

export type Fetched = { status: "ok"; bytes: Uint8Array } | { status: "not_found" } | { status: "oversized" };

export async function fetchBounded(fetch: FetchLike, url: string, maxBytes: number, timeoutMs: number): Promise<Fetched> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ctrl.signal, redirect: "follow", headers: { "accept-encoding": "identity", "cache-control": "no-cache" } });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return { status: "not_found" };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw downloadFailed(res.status >= 500 || res.status === 429 ? "network" : "http_status", `${url}: HTTP ${res.status}`, { status: res.status });
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) {
      ctrl.abort();
      return { status: "oversized" };
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        ctrl.abort();
        return { status: "oversized" };
      }
      chunks.push(value);
    }
    return { status: "ok", bytes: Buffer.concat(chunks) };
  } catch (err) {
    if ((err as { reason?: unknown }).reason !== undefined) throw err; // an OtaAgentError from above
    throw downloadFailed("network", `${url}: ${ctrl.signal.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message}`, {}, err);
  } finally {
    clearTimeout(timer);
  }
}
