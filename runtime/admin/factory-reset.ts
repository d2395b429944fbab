/**
 * Factory reset: who may administer the box and use it is forgotten; what it is and what it did
 * is kept. API key rows stay (the append-only usage ledger references them and its hash chain
 * covers key ids): each is revoked, its hash replaced by random bytes no key hashes to, its prefix
 * erased, and it is hidden from the admin API.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../store/db.ts";

export const RESET_CLEARS = ["admin password", "pairing code", "admin sessions", "admin tokens", "API keys"];
export const RESET_KEEPS = ["models", "license", "usage ledger", "device identity", "settings", "calibrations", "telemetry outbox"];

/** Clears in one transaction; returns how many API keys were erased. */
export function clearAdminState(db: Db, now: number): { keysErased: number } {
  return db.transaction(() => {
    for (const table of ["admin_credentials", "admin_pairing", "admin_sessions", "admin_tokens"]) db.prepare(`DELETE FROM ${table}`).run();
    const ids = (db.prepare("SELECT id FROM api_keys WHERE erased_at IS NULL").all() as { id: string }[]).map((r) => r.id);
    const erase = db.prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), erased_at = ?, hash = ?, prefix = '' WHERE id = ?");
    for (const id of ids) erase.run(now, now, randomBytes(32), id);
    return { keysErased: ids.length };
  })();
}
