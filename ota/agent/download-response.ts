/**
 * What a server's answer to one download request means, from its status and headers alone,
 * before a byte of the body is read: which bytes it carries, or why it is refused or retried.
 */
import type { DownloadFailureReason } from "./errors.ts";

export interface Validator {
  etag: string | null;
  lastModified: string | null;
}

export type ResponsePlan =
  /** The body holds bytes [start, start + length); `restart` when that is the whole file again. */
  | { kind: "body"; start: number; length: number; restart: boolean; validator: Validator }
  /** Worth asking again (this or another mirror), after a back-off. */
  | { kind: "retry"; reason: "network"; message: string; retryAfterMs: number | null }
  /** This mirror serves something else or misbehaves: do not ask it again for this file. */
  | { kind: "mirror_failed"; reason: DownloadFailureReason; message: string }
  /** The same URL now serves another version of the file (ETag changed): start the file over. */
  | { kind: "validator_changed"; message: string };

export const validatorOf = (res: Response): Validator => ({
  etag: res.headers.get("etag"),
  lastModified: res.headers.get("last-modified"),
});

const isStrongEtag = (etag: string | null): etag is string => etag !== null && !etag.startsWith("W/");

/** Request headers to continue at `offset`: Range up to the last byte, If-Range when we have a strong validator from this URL. */
export function resumeHeaders(offset: number, size: number, recorded: Validator | null): Record<string, string> {
  if (offset === 0) return {};
  const headers: Record<string, string> = { range: `bytes=${offset}-${size - 1}` };
  // Without a validator a changed file is still caught by the final sha256 (and then refetched).
  if (isStrongEtag(recorded?.etag ?? null)) headers["if-range"] = recorded!.etag!;
  else if (recorded?.lastModified) headers["if-range"] = recorded.lastModified;
  return headers;
}

function retryAfterMs(res: Response): number | null {
  const value = res.headers.get("retry-after");
  if (value === null) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

function contentLength(res: Response): number | null {
  const value = res.headers.get("content-length");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * @param recorded the validator recorded for `offset`'s bytes when they came from this same URL,
 *   else null (another mirror's ETag means nothing here; the final sha256 guards mirrors).
 */
export function planResponse(res: Response, offset: number, size: number, recorded: Validator | null): ResponsePlan {
  const validator = validatorOf(res);
  const declared = contentLength(res);
  if (res.status === 200) {
    if (declared !== null && declared > size) return { kind: "mirror_failed", reason: "too_many_bytes", message: `Content-Length ${declared} exceeds the manifest size ${size}` };
    if (declared !== null && declared < size) return { kind: "mirror_failed", reason: "size_mismatch", message: `Content-Length ${declared}, the manifest says ${size}` };
    // A 200 to a range request: the server ignored it, or If-Range found the file changed.
    return { kind: "body", start: 0, length: size, restart: offset > 0, validator };
  }
  if (res.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
    if (!range) return { kind: "mirror_failed", reason: "bad_content_range", message: `206 with Content-Range ${JSON.stringify(res.headers.get("content-range"))}` };
    const [start, end] = [Number(range[1]), Number(range[2])];
    if (range[3] !== "*" && Number(range[3]) !== size) return { kind: "mirror_failed", reason: "size_mismatch", message: `the server's file is ${range[3]} bytes, the manifest says ${size}` };
    if (start !== offset || end < start || end > size - 1) {
      return { kind: "mirror_failed", reason: "bad_content_range", message: `asked for bytes ${offset}-${size - 1}, got ${start}-${end}` };
    }
    const length = end - start + 1;
    if (declared !== null && declared > length) return { kind: "mirror_failed", reason: "too_many_bytes", message: `Content-Length ${declared} for a ${length}-byte range` };
    if (declared !== null && declared < length) return { kind: "mirror_failed", reason: "bad_content_range", message: `Content-Length ${declared} for a ${length}-byte range` };
    if (recorded?.etag && validator.etag && recorded.etag !== validator.etag) {
      return { kind: "validator_changed", message: `ETag ${recorded.etag} became ${validator.etag}` };
    }
    return { kind: "body", start, length, restart: false, validator };
  }
  if (res.status === 416) return { kind: "mirror_failed", reason: "size_mismatch", message: `416: the server's file is shorter than ${offset + 1} bytes` };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return { kind: "retry", reason: "network", message: `HTTP ${res.status}`, retryAfterMs: retryAfterMs(res) };
  }
  return { kind: "mirror_failed", reason: "http_status", message: `HTTP ${res.status}` };
}
