import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { HearthError, isHearthError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** OpenAI's error `type` for each HTTP status family; clients branch on status and `code`. */
function openAIType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export function asHearthError(err: unknown): HearthError | null {
  if (isHearthError(err)) return err;
  if (err instanceof HTTPException && err.status === 413) return new HearthError("payload_too_large", err.message);
  return null;
}

export function openAIErrorBody(err: HearthError) {
  return { error: { message: err.message, type: openAIType(err.status), param: err.field ?? null, code: err.code } };
}

/** The admin API's shape (runtime/admin/schemas/common.ts AdminError). */
export function adminErrorBody(err: HearthError) {
  return { error: { code: err.code, message: err.message, field: err.field ?? null } };
}

/** Under /admin/ errors take the admin shape; everywhere else OpenAI's, which its clients parse. */
const isAdminPath = (path: string) => path === "/admin" || path.startsWith("/admin/");

/** The one place that turns an error into an HTTP response. */
export function errorResponse(c: Context, err: unknown, logger: Logger): Response {
  const known = asHearthError(err) ?? new HearthError("internal", "internal error");
  if (!isHearthError(err) && !(err instanceof HTTPException)) {
    logger.error("unhandled error", { path: c.req.path, error: (err as Error)?.message, stack: (err as Error)?.stack });
  }
  const headers: Record<string, string> = {};
  if (known.details.retryAfterSeconds !== undefined) headers["Retry-After"] = String(known.details.retryAfterSeconds);
  if (known.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="hearth"';
  if (isAdminPath(c.req.path)) headers["Cache-Control"] = "no-store";
  return c.json(isAdminPath(c.req.path) ? adminErrorBody(known) : openAIErrorBody(known), known.status as 400, headers);
}
