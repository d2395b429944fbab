/**
 * The nonces of commands this box accepted (command_nonces): a command whose nonce is here is a
 * replay. A nonce is recorded, durably, before its command runs, so a crash mid-command cannot let
 * the same command run twice; it is forgotten NONCE_RETENTION_MS after its command expired.
 */
import type { Db } from "../../store/db.ts";
import type { Command } from "../../telemetry/messages.ts";
import { NONCE_RETENTION_MS } from "./limits.ts";

export function nonceSeen(db: Db, nonce: string): boolean {
  return db.prepare("SELECT 1 FROM command_nonces WHERE nonce = ?").get(nonce) !== undefined;
}

/**
 * Records the command's nonce and prunes forgotten ones, in one transaction; false when the nonce
 * was already there (a replay that raced its original). Durable when it returns true.
 */
export function claimNonce(db: Db, command: Command, now: number): boolean {
  return db.transaction(() => {
    db.prepare("DELETE FROM command_nonces WHERE expires_at < ?").run(now - NONCE_RETENTION_MS);
    const inserted = db
      .prepare("INSERT OR IGNORE INTO command_nonces (nonce, command_id, kind, key_id, expires_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(command.nonce, command.id, command.kind, command.keyId, Date.parse(command.expiresAt), now);
    return inserted.changes === 1;
  })();
}
