import type { Command, CommandContext } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { table } from "../output.ts";
import { HearthError } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { openDatabase } from "../../store/db.ts";
import { ApiKeyStore } from "../../store/api-keys.ts";

function withKeys<T>(ctx: CommandContext, fn: (keys: ApiKeyStore) => T): T {
  const db = openDatabase(commandConfig(ctx).dataDir);
  try {
    return fn(new ApiKeyStore(db, systemClock));
  } finally {
    db.close();
  }
}

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

export const keysCreateCommand: Command = {
  path: ["keys", "create"],
  summary: "Create an API key (the key is shown once; only its hash is stored)",
  options: { name: { type: "string", value: "NAME", description: "What the key is for" }, ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const name = ctx.values.name;
    if (typeof name !== "string") throw new HearthError("invalid_request", "--name is required", { field: "name" });
    const created = withKeys(ctx, (keys) => keys.create(name));
    if (ctx.values.json) ctx.io.out(JSON.stringify(created));
    else ctx.io.out(`Created key ${created.id} (${created.name}). It is shown only this once:\n\n  ${created.key}\n`);
    return 0;
  },
};

export const keysListCommand: Command = {
  path: ["keys", "list"],
  summary: "List API keys with their usage totals",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const list = withKeys(ctx, (keys) => keys.list());
    if (ctx.values.json) {
      ctx.io.out(JSON.stringify(list));
      return 0;
    }
    if (list.length === 0) {
      ctx.io.out("No API keys yet. Create one with `hearth keys create --name NAME`.");
      return 0;
    }
    const rows = list.map((k) => [k.id, k.name, `${k.prefix}…`, k.revokedAt ? "revoked" : "active", k.requests, k.promptTokens, k.completionTokens, iso(k.createdAt)]);
    ctx.io.out(table(["ID", "NAME", "KEY", "STATUS", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS", "CREATED"], rows));
    return 0;
  },
};

export const keysRevokeCommand: Command = {
  path: ["keys", "revoke"],
  summary: "Revoke an API key; requests using it are refused from then on",
  args: "ID",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id) throw new HearthError("invalid_request", "the key ID to revoke is required (see `hearth keys list`)", { field: "id" });
    const record = withKeys(ctx, (keys) => keys.revoke(id));
    if (ctx.values.json) ctx.io.out(JSON.stringify(record));
    else ctx.io.out(`Revoked ${record.id} (${record.name}) at ${iso(record.revokedAt)}`);
    return 0;
  },
};
