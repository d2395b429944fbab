/** Admin tokens for automation: `hadm_` + 32 random bytes, stored as SHA-256, revocable. */
import type { Clock } from "../clock.ts";
import { HearthError } from "../errors.ts";
import type { Db } from "../store/db.ts";
import type { AdminToken, CreatedToken } from "./schemas/tokens.ts";
import { randomId, randomSecret, sha256 } from "./secrets.ts";

export const ADMIN_TOKEN_PREFIX = "hadm_";

type Row = { id: string; name: string; prefix: string; created_at: number; last_used_at: number | null; revoked_at: number | null };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const toToken = (r: Row): AdminToken => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: iso(r.created_at)!, lastUsedAt: iso(r.last_used_at), revokedAt: iso(r.revoked_at) });

export class AdminTokenStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  create(name: string): CreatedToken {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64) throw new HearthError("invalid_request", "name: must be 1 to 64 characters", { field: "name" });
    const id = randomId("tok");
    const token = randomSecret(ADMIN_TOKEN_PREFIX);
    const now = this.clock.now();
    this.db
      .prepare("INSERT INTO admin_tokens (id, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(id, trimmed, sha256(token), token.slice(0, ADMIN_TOKEN_PREFIX.length + 6), now);
    return { id, name: trimmed, token, createdAt: new Date(now).toISOString() };
  }

  /** The active token's id for a presented secret, or null; records when it was last used (at most once a minute). */
  verify(token: string): string | null {
    if (!token.startsWith(ADMIN_TOKEN_PREFIX)) return null;
    const hash = sha256(token);
    const row = this.db.prepare("SELECT id, last_used_at FROM admin_tokens WHERE hash = ? AND revoked_at IS NULL").get(hash) as { id: string; last_used_at: number | null } | undefined;
    if (!row) return null;
    const now = this.clock.now();
    if (row.last_used_at === null || now - row.last_used_at > 60_000) this.db.prepare("UPDATE admin_tokens SET last_used_at = ? WHERE id = ?").run(now, row.id);
    return row.id;
  }

  list(): AdminToken[] {
    return (this.db.prepare("SELECT * FROM admin_tokens ORDER BY created_at, id").all() as Row[]).map(toToken);
  }

  revoke(id: string): AdminToken {
    this.db.prepare("UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(this.clock.now(), id);
    const row = this.db.prepare("SELECT * FROM admin_tokens WHERE id = ?").get(id) as Row | undefined;
    if (!row) throw new HearthError("not_found", `admin token ${id} does not exist`, { field: "id" });
    return toToken(row);
  }
}
