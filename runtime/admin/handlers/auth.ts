/** Session state, pairing, login, logout and password change. */
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { HearthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { AdminAuth } from "../admin-auth.ts";
import { clientKey, type Principal } from "../request-auth.ts";
import type { AdminHandlers } from "../router.ts";
import type { SessionState } from "../schemas/auth.ts";
import { csrfTokenOf } from "../secrets.ts";
import { SESSION_COOKIE, SESSION_MAX_MS } from "../sessions.ts";

/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Path=/ (the
 * page and the API). Not Secure: the box serves plain HTTP on the LAN.
 */
function startSession(c: Context, auth: AdminAuth): SessionState {
  const secret = auth.sessions.create();
  setCookie(c, SESSION_COOKIE, secret, { httpOnly: true, sameSite: "Strict", path: "/", maxAge: SESSION_MAX_MS / 1000 });
  return { paired: true, pairingOpen: auth.credentials.pairingOpen(), authenticated: true, via: "session", csrfToken: csrfTokenOf(secret) };
}

export function sessionState(auth: AdminAuth, principal: Principal | null): SessionState {
  return {
    paired: auth.credentials.isPaired(),
    pairingOpen: auth.credentials.pairingOpen(),
    authenticated: principal !== null,
    via: principal?.via ?? null,
    csrfToken: principal?.via === "session" ? csrfTokenOf(principal.secret) : null,
  };
}

export function authHandlers(auth: AdminAuth, logger: Logger): Pick<AdminHandlers, "getSession" | "pair" | "login" | "logout" | "changePassword"> {
  return {
    getSession: ({ principal }) => sessionState(auth, principal),

    pair: async ({ c, body }) => {
      const client = clientKey(c);
      auth.limiter.take(client);
      const result = await auth.credentials.pair(body.code, body.password);
      if (result === "none") throw new HearthError("forbidden", "no pairing code is valid now: restart the box or press its button for a new one", { field: "code" });
      if (result === "wrong") throw new HearthError("unauthorized", "wrong pairing code", { field: "code" });
      auth.limiter.succeeded(client);
      // A new password (first pairing or a reset from the box) ends every earlier session.
      auth.sessions.endAll();
      logger.info("admin password set with the pairing code");
      return startSession(c, auth);
    },

    login: async ({ c, body }) => {
      if (!auth.credentials.isPaired()) throw new HearthError("pairing_required", "this box has no admin password yet: pair it first (POST /admin/api/pairing)");
      const client = clientKey(c);
      auth.limiter.take(client);
      if (!(await auth.credentials.checkPassword(body.password))) throw new HearthError("unauthorized", "wrong password", { field: "password" });
      auth.limiter.succeeded(client);
      return startSession(c, auth);
    },

    logout: ({ c, principal }) => {
      if (principal?.via === "session") auth.sessions.end(principal.secret);
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return { ok: true as const };
    },

    changePassword: async ({ c, body, principal }) => {
      const client = clientKey(c);
      auth.limiter.take(client);
      if (!(await auth.credentials.checkPassword(body.current))) throw new HearthError("unauthorized", "wrong current password", { field: "current" });
      auth.limiter.succeeded(client);
      await auth.credentials.setPassword(body.next);
      auth.sessions.endAll(principal?.via === "session" ? principal.secret : undefined);
      logger.info("admin password changed");
      return { ok: true as const };
    },
  };
}
