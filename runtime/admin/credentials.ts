/**
 * The admin password and the one-time pairing code. Pairing sets the password; while no password
 * is set only pairing is possible. A new code issued while a password exists lets whoever holds
 * the box (console, button) set a new password: the reset path for a forgotten one.
 */
import type { Clock } from "../clock.ts";
import type { Db } from "../store/db.ts";
import { hashPassword, newPairingCode, normalizePairingCode, verifyPassword } from "./secrets.ts";

/** How long a pairing code is valid; a new one (restart, button, CLI) replaces it. */
export const PAIRING_TTL_MS = 24 * 3600_000;
/** Wrong guesses (from any client) after which a code is burned and a new one is needed. */
export const PAIRING_MAX_FAILURES = 100;

export type PairingCheck = "ok" | "wrong" | "none";

export class AdminCredentials {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  isPaired(): boolean {
    return this.db.prepare("SELECT 1 FROM admin_credentials WHERE id = 1").get() !== undefined;
  }

  pairingOpen(): boolean {
    return this.db.prepare("SELECT 1 FROM admin_pairing WHERE id = 1 AND expires_at > ? AND failures < ?").get(this.clock.now(), PAIRING_MAX_FAILURES) !== undefined;
  }

  /** Issues a new code, replacing any other, and returns it (the only time it exists in clear). */
  async issuePairingCode(ttlMs = PAIRING_TTL_MS): Promise<string> {
    const code = newPairingCode();
    const hash = await hashPassword(normalizePairingCode(code));
    const now = this.clock.now();
    this.db.prepare("INSERT OR REPLACE INTO admin_pairing (id, code_hash, failures, created_at, expires_at) VALUES (1, ?, 0, ?, ?)").run(hash, now, now + ttlMs);
    return code;
  }

  /**
   * Sets the password if `code` is the valid pairing code, consuming the code in the same
   * transaction (a code works once even when two requests race).
   */
  async pair(code: string, password: string): Promise<PairingCheck> {
    const row = this.db.prepare("SELECT code_hash, created_at FROM admin_pairing WHERE id = 1 AND expires_at > ? AND failures < ?").get(this.clock.now(), PAIRING_MAX_FAILURES) as
      | { code_hash: string; created_at: number }
      | undefined;
    if (!row) return "none";
    if (!(await verifyPassword(normalizePairingCode(code), row.code_hash))) {
      this.db.prepare("UPDATE admin_pairing SET failures = failures + 1 WHERE id = 1 AND created_at = ?").run(row.created_at);
      return "wrong";
    }
    const passwordHash = await hashPassword(password);
    const consumed = this.db.transaction(() => {
      // Only the code that was checked, and only once: a racing request finds it gone.
      if (this.db.prepare("DELETE FROM admin_pairing WHERE id = 1 AND created_at = ?").run(row.created_at).changes === 0) return false;
      this.db.prepare("INSERT OR REPLACE INTO admin_credentials (id, password_hash, set_at) VALUES (1, ?, ?)").run(passwordHash, this.clock.now());
      return true;
    })();
    return consumed ? "ok" : "none";
  }

  async checkPassword(password: string): Promise<boolean> {
    const row = this.db.prepare("SELECT password_hash FROM admin_credentials WHERE id = 1").get() as { password_hash: string } | undefined;
    return row ? verifyPassword(password, row.password_hash) : false;
  }

  async setPassword(password: string): Promise<void> {
    const hash = await hashPassword(password);
    this.db.prepare("INSERT OR REPLACE INTO admin_credentials (id, password_hash, set_at) VALUES (1, ?, ?)").run(hash, this.clock.now());
  }
}
