/**
 * The OTA agent's errors: a HearthError (so HTTP and CLI map it by `code`) that also carries a
 * stable `reason` the update state machine records and reports, plus the numbers behind it.
 */
import { HearthError, type ErrorCode } from "../../runtime/errors.ts";

/** Why a download did not produce a verified file. */
export const DOWNLOAD_FAILURE_REASONS = [
  "hash_mismatch", // all bytes arrived, the sha256 differs: partial deleted
  "too_many_bytes", // the server sent (or declared) more than the manifest size: connection aborted
  "bad_content_range", // a 206 whose Content-Range is not the range asked for
  "size_mismatch", // the server's file has another size than the manifest (Content-Length, total, 416)
  "http_status", // a status that is not retried (404, 403, ...)
  "network", // connection refused, reset or dropped mid-body, 5xx, 429 — retried, partial kept
  "stalled", // no byte within the stall timeout — retried, partial kept
  "validator_changed", // the file changed on the server (ETag) too many times in a row
  "cancelled", // the caller's signal aborted: partial kept for a later resume
  "bad_url", // not an http(s) URL
  "no_space", // (insufficient_storage) free space below what remains plus the margin
] as const;
export type DownloadFailureReason = (typeof DOWNLOAD_FAILURE_REASONS)[number];

/** Why the slot store refused an operation. */
export const SLOT_FAILURE_REASONS = [
  "switch_pending", // a switch awaits commit or rollback
  "staging_in_progress", // switch or rollback while a release is being staged (abandonStaging first)
  "not_staging", // finishStaging without beginStaging
  "not_staged", // switchTo a slot that holds no complete, staged release
  "already_active", // switchTo the active slot
  "no_pending_switch", // commit with nothing to commit
  "no_previous", // rollback with no previous slot
  "staged_file_invalid", // finishStaging with a missing file or one of another size / sha256
  "pointer_corrupt", // the pointer file does not parse (never written torn; disk damage)
] as const;
export type SlotFailureReason = (typeof SLOT_FAILURE_REASONS)[number];

export type OtaAgentReason = DownloadFailureReason | SlotFailureReason;

export class OtaAgentError extends HearthError {
  constructor(
    code: ErrorCode,
    readonly reason: OtaAgentReason,
    message: string,
    /** Numbers and names behind the reason (e.g. needed/available bytes, HTTP status, URL). */
    readonly info: Readonly<Record<string, string | number | boolean>> = {},
    details: { field?: string; cause?: unknown } = {},
  ) {
    super(code, message, details);
  }
}

export const downloadFailed = (reason: DownloadFailureReason, message: string, info: OtaAgentError["info"] = {}, cause?: unknown) =>
  new OtaAgentError("download_failed", reason, `download failed (${reason}): ${message}`, info, cause === undefined ? {} : { cause });

export const isOtaAgentError = (err: unknown, reason?: OtaAgentReason): err is OtaAgentError =>
  err instanceof OtaAgentError && (reason === undefined || err.reason === reason);
