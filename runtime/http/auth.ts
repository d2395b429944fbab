import type { MiddlewareHandler } from "hono";
import { HearthError } from "../errors.ts";
import type { ApiKeyStore } from "../store/api-keys.ts";
import type { InferenceEnv } from "./openai/shared.ts";

/**
 * Inference needs `Authorization: Bearer <key>` unless the owner opened it to the LAN. The key's
 * id (never the key) is put on the context for metering.
 */
export function apiKeyAuth(keys: ApiKeyStore, openInference: boolean): MiddlewareHandler<InferenceEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) {
      if (openInference) {
        c.set("keyId", null);
        return next();
      }
      throw new HearthError("unauthorized", "missing API key: send the header Authorization: Bearer <key> (create one with `hearth keys create`)");
    }
    const record = keys.verify(match[1]!);
    if (!record) throw new HearthError("unauthorized", "invalid or revoked API key");
    c.set("keyId", record.id);
    return next();
  };
}
