/**
 * Stable codes of a command's ack, shown by `hearth fleet command` and stored by the collector.
 * Rejections are listed in the order the box checks them: a command is refused for the first
 * problem found, and nothing after a refusal is trusted or executed.
 */
export const REJECTION_CODES = [
  "malformed", // not UTF-8 JSON, over MAX_COMMAND_BYTES (refused unread), or a field breaks the schema (named)
  "unsupported_version", // a `v` this runtime does not speak
  "wrong_fleet", // addressed to another fleet
  "unknown_key", // keyId is not one of telemetry.fleetKeys
  "unsigned", // no signature (missing or empty)
  "bad_signature", // the payload or the signature was altered, or another key signed it
  "misaddressed", // another device, or a group this box is not in
  "invalid_lifetime", // expiresAt not after issuedAt, or further than MAX_COMMAND_LIFETIME_MS
  "not_yet_valid", // issuedAt is ahead of this box's clock by more than the skew allowed
  "expired", // expiresAt has passed
  "replayed", // this nonce was seen before
  "unknown_kind", // a kind this box does not run
  "not_allowed", // the kind is known but this use of it is not (config.set outside the allow-list)
  "invalid_args", // the kind's arguments break its schema (named)
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

/**
 * A `failed` ack (the command was accepted, its nonce spent, and running it went wrong) carries the
 * handler's HearthError code (license_invalid for a refused license), `timeout`, or `internal`.
 */
