import type { Command, CommandContext } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { table } from "../output.ts";
import { stringFlag } from "../run.ts";
import { HearthError } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { openDatabase, type Db } from "../../store/db.ts";
import { AdminTokenStore } from "../../admin/tokens.ts";
import { AdminCredentials, PAIRING_TTL_MS } from "../../admin/credentials.ts";

async function withDb<T>(ctx: CommandContext, fn: (db: Db) => T | Promise<T>): Promise<T> {
  const db = openDatabase(commandConfig(ctx).dataDir);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

const tokens = (db: Db) => new AdminTokenStore(db, systemClock);

export const adminTokenCreateCommand: Command = {
  path: ["admin", "token", "create"],
  summary: "Create an admin token for automation (shown once; only its hash is stored)",
  options: { name: { type: "string", value: "NAME", description: 'What the token is for (default "automation")' }, ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const created = await withDb(ctx, (db) => tokens(db).create(stringFlag(ctx, "name") ?? "automation"));
    if (ctx.values.json) ctx.io.out(JSON.stringify(created));
    else ctx.io.out(`Created admin token ${created.id} (${created.name}). It is shown only this once:\n\n  ${created.token}\n\nSend it as Authorization: Bearer <token> to /admin/api.`);
    return 0;
  },
};

export const adminTokenListCommand: Command = {
  path: ["admin", "token", "list"],
  summary: "List admin tokens",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const list = await withDb(ctx, (db) => tokens(db).list());
    if (ctx.values.json) ctx.io.out(JSON.stringify(list));
    else if (list.length === 0) ctx.io.out("No admin tokens yet. Create one with `hearth admin token create --name NAME`.");
    else ctx.io.out(table(["ID", "NAME", "TOKEN", "STATUS", "LAST USED", "CREATED"], list.map((t) => [t.id, t.name, `${t.prefix}…`, t.revokedAt ? "revoked" : "active", t.lastUsedAt ?? "", t.createdAt])));
    return 0;
  },
};

export const adminTokenRevokeCommand: Command = {
  path: ["admin", "token", "revoke"],
  summary: "Revoke an admin token; requests using it are refused from then on",
  args: "ID",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id) throw new HearthError("invalid_request", "the token ID to revoke is required (see `hearth admin token list`)", { field: "id" });
    const revoked = await withDb(ctx, (db) => tokens(db).revoke(id));
    if (ctx.values.json) ctx.io.out(JSON.stringify(revoked));
    else ctx.io.out(`Revoked ${revoked.id} (${revoked.name}) at ${revoked.revokedAt}`);
    return 0;
  },
};

export const adminPairingCodeCommand: Command = {
  path: ["admin", "pairing-code"],
  summary: "Issue a new pairing code (replaces any other; with an admin set, it allows setting a new password)",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const code = await withDb(ctx, (db) => new AdminCredentials(db, systemClock).issuePairingCode());
    const expiresAt = new Date(systemClock.now() + PAIRING_TTL_MS).toISOString();
    if (ctx.values.json) ctx.io.out(JSON.stringify({ code, expiresAt }));
    else ctx.io.out(`pairing code: ${code}  (valid until ${expiresAt}; enter it on the admin page)`);
    return 0;
  },
};

/** `hearth admin …`: admin tokens for automation and pairing codes (issue 7). */
export const adminCommands: Command[] = [adminTokenCreateCommand, adminTokenListCommand, adminTokenRevokeCommand, adminPairingCodeCommand];
