/**
 * Typed errors with stable codes. Every failure the runtime reports to a user is a HearthError;
 * `http/errors.ts` and `cli/output.ts` are the only places that turn them into responses or output.
 */
export const ERROR_STATUS = {
  config_invalid: 400,
  invalid_request: 400,
  invalid_json: 400,
  context_length_exceeded: 400,
  embeddings_unsupported: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  rate_limited: 429,
  client_closed: 499,
  internal: 500,
  model_unavailable: 503,
  model_load_failed: 503,
  gguf_invalid: 422,
  model_over_budget: 422,
  kernel_unavailable: 503,
  license_invalid: 422,
  audit_invalid: 422,
  entitlement_required: 403,
  identity_invalid: 500,
  // Admin API and page (issue 7).
  conflict: 409,
  csrf_failed: 403,
  pairing_required: 403,
  not_implemented: 501,
  // OTA updates (issue 6).
  release_invalid: 422,
  release_rejected: 409,
  download_failed: 502,
  insufficient_storage: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class HearthError extends Error {
  override readonly name = "HearthError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  get field(): string | undefined {
    return this.details.field;
  }
}

export function isHearthError(err: unknown): err is HearthError {
  return err instanceof HearthError;
}

/** Node-style errno predicate, e.g. `hasErrno(err, "ENOENT")`. */
export function hasErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
