/**
 * Browser sessions: the cookie carries a random secret, the database its SHA-256 only. A session
 * ends after a day without use or thirty days after it began, whichever comes first.
 */
import type { Clock } from "../clock.ts";
import type { Db } from "../store/db.ts";
import { randomSecret, sha256 } from "./secrets.ts";

export const SESSION_COOKIE = "hearth_admin";
export const SESSION_IDLE_MS = 24 * 3600_000;
export const SESSION_MAX_MS = 30 * 24 * 3600_000;

export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** A new session; returns the cookie's secret. */
  create(): string {
    const secret = randomSecret();
    const now = this.clock.now();
    this.db.prepare("DELETE FROM admin_sessions WHERE expires_at <= ?").run(now);
    this.db.prepare("INSERT INTO admin_sessions (hash, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?)").run(sha256(secret), now, now, now + SESSION_IDLE_MS);
    return secret;
  }

  /** Whether the secret is a live session; extends its idle expiry (written at most once a minute). */
  touch(secret: string): boolean {
    const hash = sha256(secret);
    const now = this.clock.now();
    // Looked up by hash: the secret itself is never compared, so there is no timing to leak.
    const row = this.db.prepare("SELECT created_at, seen_at FROM admin_sessions WHERE hash = ? AND expires_at > ?").get(hash, now) as { created_at: number; seen_at: number } | undefined;
    if (!row) return false;
    if (now - row.seen_at > 60_000) {
      const expires = Math.min(now + SESSION_IDLE_MS, row.created_at + SESSION_MAX_MS);
      this.db.prepare("UPDATE admin_sessions SET seen_at = ?, expires_at = ? WHERE hash = ?").run(now, expires, hash);
    }
    return true;
  }

  end(secret: string): void {
    this.db.prepare("DELETE FROM admin_sessions WHERE hash = ?").run(sha256(secret));
  }

  /** Ends every session but `keep` (after a password change or reset). */
  endAll(keep?: string): void {
    if (keep) this.db.prepare("DELETE FROM admin_sessions WHERE hash != ?").run(sha256(keep));
    else this.db.prepare("DELETE FROM admin_sessions").run();
  }
}
