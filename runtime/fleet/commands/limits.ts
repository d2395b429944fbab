/** Bounds a fleet command must stay within, whoever signed it. */

/** Larger payloads are refused unread: nothing a command carries (a license included) needs more. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** How far issuedAt may be ahead of the box's clock: clocks of boxes and admin machines drift. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The longest lifetime accepted: a leaked signed command must not stay usable for long. */
export const MAX_COMMAND_LIFETIME_MS = 24 * 3_600_000;

/**
 * How long a nonce is kept after its command expired. An expired command is refused before its
 * nonce is looked at, so the nonce is only needed while the command could pass; the margin covers
 * a clock set back by up to this much.
 */
export const NONCE_RETENTION_MS = 24 * 3_600_000;

/** A handler that takes longer is reported failed (code timeout), so every command gets its ack. */
export const HANDLER_TIMEOUT_MS = 60_000;

/** Acks carry reasons of at most this many characters (CommandAckSchema). */
export const MAX_REASON_CHARS = 1024;
