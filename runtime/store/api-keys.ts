import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { HearthError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "./db.ts";

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface ApiKeyWithUsage extends ApiKeyRecord {
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

const KEY_PREFIX = "hth_";

/**
 * Keys are 32 random bytes, so a single SHA-256 is a sound verifier (no dictionary to attack);
 * a slow password hash would add latency to every inference request for nothing.
 */
function hashKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

export class ApiKeyStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  create(name: string): { id: string; name: string; key: string } {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64) {
      throw new HearthError("invalid_request", "name: must be 1 to 64 characters", { field: "name" });
    }
    const id = `key_${randomBytes(6).toString("hex")}`;
    const key = KEY_PREFIX + randomBytes(32).toString("base64url");
    this.db
      .prepare("INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(id, trimmed, hashKey(key), key.slice(0, KEY_PREFIX.length + 6), this.clock.now());
    return { id, name: trimmed, key };
  }

  /** The active key record for a presented secret, or null. */
  verify(key: string): ApiKeyRecord | null {
    if (!key.startsWith(KEY_PREFIX)) return null;
    const hash = hashKey(key);
    const row = this.db.prepare("SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL").get(hash) as
      | (Row & { hash: Buffer })
      | undefined;
    // The lookup is by hash; the constant-time compare guards against any index timing leak.
    if (!row || !timingSafeEqual(row.hash, hash)) return null;
    return toRecord(row);
  }

  /** The name of key `id`, revoked or not (metrics label usage by name); null for an unknown id. */
  nameOf(id: string): string | null {
    const row = this.db.prepare("SELECT name FROM api_keys WHERE id = ?").get(id) as { name: string } | undefined;
    return row?.name ?? null;
  }

  revoke(id: string): ApiKeyRecord {
    const info = this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(this.clock.now(), id);
    const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as Row | undefined;
    if (!row) throw new HearthError("not_found", `key ${id} does not exist`, { field: "id" });
    if (info.changes === 0 && row.revoked_at === null) throw new HearthError("internal", `key ${id} could not be revoked`);
    return toRecord(row);
  }

  list(): ApiKeyWithUsage[] {
    const rows = this.db
      .prepare(
        `SELECT k.*, COUNT(u.seq) AS requests,
                COALESCE(SUM(u.prompt_tokens), 0) AS prompt_tokens,
                COALESCE(SUM(u.completion_tokens), 0) AS completion_tokens
         FROM api_keys k LEFT JOIN usage_ledger u ON u.key_id = k.id
         -- Keys erased by a factory reset are gone for the owner; their rows stay for the ledger.
         WHERE k.erased_at IS NULL
         GROUP BY k.id ORDER BY k.created_at, k.id`,
      )
      .all() as (Row & { requests: number; prompt_tokens: number; completion_tokens: number })[];
    return rows.map((r) => ({
      ...toRecord(r),
      requests: r.requests,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
    }));
  }
}

type Row = { id: string; name: string; prefix: string; created_at: number; revoked_at: number | null };

function toRecord(r: Row): ApiKeyRecord {
  return { id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at, revokedAt: r.revoked_at };
}
