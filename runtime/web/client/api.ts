/**
 * Calls to the admin API from the page: same-origin cookies, the CSRF token on every state-changing
 * request, and errors as ApiError carrying the API's code, message and field.
 */
export const API = "/admin/api";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string | null; param?: string | null };
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

/** The token from GET /admin/api/session, sent as X-CSRF-Token. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 (the session expired or was logged out elsewhere). */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function failure(res: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's page, a dropped connection): the status says enough.
  }
  const e = body.error ?? {};
  return new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? `The box answered ${res.status} ${res.statusText}`, e.field ?? e.param ?? null);
}

export async function call<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let payload: string | undefined;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(API + path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "The box did not answer. Check that it is on and on this network.", null);
  }
  if (!res.ok) {
    const err = await failure(res);
    // A 401 naming a field is a wrong secret in the body (pairing code, password), not a lost session.
    if (res.status === 401 && err.field === null) onUnauthorized();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => call<T>("POST", path, body);
export const put = <T>(path: string, body: unknown) => call<T>("PUT", path, body);
export const del = <T>(path: string) => call<T>("DELETE", path);
