/**
 * Stable codes for why a box does not install a release, in the order the checks run: the agent
 * reports the first one found (admin API, `hearth ota status`, MQTT `/ota`), so a fleet admin
 * sees WHY a box stays where it is. Nothing after a refusal is trusted or acted on.
 */
export const OTA_REFUSALS = [
  "oversized", // more bytes than the index declares or the format allows: refused unread
  "malformed", // not UTF-8 JSON, or a field breaks the schema (the message names it)
  "unsupported_format", // a specVersion this runtime does not read
  "insufficient_signatures", // fewer distinct keys of the right role signed it than the role's threshold
  "wrong_type", // a signed document of another type (a manifest where the index belongs, …)
  "root_version", // a new root that is not exactly one version after the trusted one
  "root_expired", // the newest trusted root has expired: no fresh data is trusted until a newer root
  "index_expired", // the channel index is past its expiresAt (freeze attack, or a publisher that stopped)
  "index_rollback", // the index is older than one this box already accepted
  "no_release", // the channel lists no release of the kind or name asked for
  "manifest_mismatch", // the manifest is not the one the index pins (bytes, name, version, kind or channel)
  "manifest_expired", // the manifest is past its expiresAt
  "wrong_channel", // the release is for another channel than the one this box follows
  "runtime_too_old", // the release needs a newer runtime (minRuntimeVersion)
  "entitlement_required", // the license in force lacks the entitlement the release requires
  "base_mismatch", // a LoRA adapter whose base is not the active base model
  "up_to_date", // the installed version is the release's: nothing to do
  "older_than_installed", // older than installed, and no signed rollback allows it
  "not_in_rollout", // this box is neither in the rollout's percentage nor in one of its groups
] as const;

export type OtaRefusalCode = (typeof OTA_REFUSALS)[number];

export interface Refusal {
  ok: false;
  code: OtaRefusalCode;
  message: string;
  /** The offending field of the document, e.g. "files[0].sha256", when there is one. */
  field?: string;
}

export type Checked<T> = { ok: true; value: T } | Refusal;

export function refuse(code: OtaRefusalCode, message: string, field?: string): Refusal {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}

export const accept = <T>(value: T): Checked<T> => ({ ok: true, value });
