/** API keys (create, list, revoke) and usage. Keys erased by a factory reset are not shown. */
import { HearthError } from "../../errors.ts";
import type { ApiKeyWithUsage } from "../../store/api-keys.ts";
import type { AdminDeps } from "../deps.ts";
import type { AdminHandlers } from "../router.ts";
import type { ApiKey } from "../schemas/keys.ts";
import { keyUsage, periodEnding, usageSummary } from "../usage-report.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const toApiKey = (k: ApiKeyWithUsage): ApiKey => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  createdAt: iso(k.createdAt)!,
  revokedAt: iso(k.revokedAt),
  requests: k.requests,
  promptTokens: k.promptTokens,
  completionTokens: k.completionTokens,
});

export function keyHandlers(deps: AdminDeps): Pick<AdminHandlers, "listKeys" | "createKey" | "revokeKey" | "keyUsage" | "usage"> {
  const erased = () => new Set((deps.db.prepare("SELECT id FROM api_keys WHERE erased_at IS NOT NULL").all() as { id: string }[]).map((r) => r.id));
  const visible = () => {
    const hidden = erased();
    return deps.keys.list().filter((k) => !hidden.has(k.id));
  };
  const find = (id: string) => {
    const key = visible().find((k) => k.id === id);
    if (!key) throw new HearthError("not_found", `API key ${id} does not exist`, { field: "id" });
    return key;
  };

  return {
    listKeys: () => ({ keys: visible().map(toApiKey) }),

    createKey: ({ body }) => {
      const created = deps.keys.create(body.name);
      deps.logger.info("API key created", { key_id: created.id, name: created.name });
      return { id: created.id, name: created.name, key: created.key, createdAt: toApiKey(find(created.id)).createdAt };
    },

    revokeKey: ({ params }) => {
      find(params.id);
      deps.keys.revoke(params.id);
      deps.logger.info("API key revoked", { key_id: params.id });
      return toApiKey(find(params.id));
    },

    keyUsage: ({ params, query }) => {
      const key = find(params.id);
      const period = periodEnding(deps.clock.now(), query.days ?? 30);
      return { keyId: key.id, name: key.name, from: period.from, to: period.to, perDay: keyUsage(deps.db, key.id, period) };
    },

    usage: ({ query }) => {
      const names = new Map(deps.keys.list().map((k) => [k.id, k.name]));
      return usageSummary(deps.db, periodEnding(deps.clock.now(), query.days ?? 30), names);
    },
  };
}
