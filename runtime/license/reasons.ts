/**
 * Stable reason codes for a license's state, one per outcome, shown by `hearth license status`
 * and the API. Only valid, expiring and grace put a license's tier in force; every other reason
 * leaves the box on the Community tier (inference is never affected, only paid features).
 */
export const LICENSE_REASONS = [
  "absent", // no license installed
  "unreadable", // the installed file exists but cannot be read (permissions, I/O)
  "oversized", // larger than MAX_LICENSE_BYTES, refused unread
  "malformed", // not JSON, or a field breaks the schema (the message names it)
  "unsupported_format", // a formatVersion this runtime does not know
  "unknown_key", // signed with a key id this runtime does not trust
  "retired_key", // signed with a key that has been retired
  "bad_signature", // the payload or the signature was altered
  "wrong_fingerprint", // bound to other hardware
  "not_yet_valid", // before notBefore
  "valid",
  "expiring", // within EXPIRY_WARNING_DAYS of expiresAt: a warning
  "grace", // expired, within graceDays: SMB features kept, with a warning
  "expired", // past the grace period
] as const;

export type LicenseReason = (typeof LICENSE_REASONS)[number];

const IN_FORCE: ReadonlySet<LicenseReason> = new Set(["valid", "expiring", "grace"]);

/** Whether a license in this state grants its tier and entitlements. */
export const isInForce = (reason: LicenseReason): boolean => IN_FORCE.has(reason);
