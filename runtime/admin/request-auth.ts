/**
 * Who a request is: an admin token (`Authorization: Bearer hadm_…`), a session cookie, or nobody;
 * whether that may call a route; and the CSRF check for state-changing requests made with a
 * cookie (a token is not sent by browsers on their own, so it needs none).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { getConnInfo } from "hono/bun";
import { HearthError } from "../errors.ts";
import type { AdminAuth } from "./admin-auth.ts";
import type { Access } from "./route-table.ts";
import { csrfTokenOf, sameSecret } from "./secrets.ts";
import { SESSION_COOKIE } from "./sessions.ts";

export type Principal = { via: "token"; tokenId: string } | { via: "session"; secret: string };

export const CSRF_HEADER = "X-CSRF-Token";

/** The caller, or null; `badToken` when a bearer token was sent and is not (or no longer) valid. */
export function resolvePrincipal(c: Context, auth: AdminAuth): { principal: Principal | null; badToken: boolean } {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = header.match(/^Bearer\s+(\S+)\s*$/i);
    const tokenId = match ? auth.tokens.verify(match[1]!) : null;
    return tokenId ? { principal: { via: "token", tokenId }, badToken: false } : { principal: null, badToken: true };
  }
  const secret = getCookie(c, SESSION_COOKIE);
  if (secret && auth.sessions.touch(secret)) return { principal: { via: "session", secret }, badToken: false };
  return { principal: null, badToken: false };
}

/** Throws unless the caller may use a route of this access level with this method. */
export function authorize(c: Context, auth: AdminAuth, access: Access, resolved: { principal: Principal | null; badToken: boolean }): void {
  if (access === "public") return;
  const { principal } = resolved;
  if (!principal) {
    if (resolved.badToken) throw new HearthError("unauthorized", "invalid or revoked admin token");
    if (!auth.credentials.isPaired()) {
      throw new HearthError("pairing_required", "this box has no admin password yet: pair it with the pairing code from its console or log (POST /admin/api/pairing)");
    }
    throw new HearthError("unauthorized", "sign in (POST /admin/api/login) or send Authorization: Bearer <admin token>");
  }
  if (principal.via === "session" && c.req.method !== "GET" && c.req.method !== "HEAD") {
    const sent = c.req.header(CSRF_HEADER) ?? "";
    if (!sameSecret(sent, csrfTokenOf(principal.secret))) {
      throw new HearthError("csrf_failed", `missing or wrong ${CSRF_HEADER} header: read csrfToken from GET /admin/api/session and send it with every POST, PUT and DELETE`, { field: CSRF_HEADER });
    }
  }
}

/** The client's address for rate limiting; one shared key when the server is not Bun's (app.request in tests). */
export function clientKey(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "local";
  }
}
