/**
 * `hearth ota status | check | apply | rollback`: the box's update agent (issue 6).
 *
 * check, apply and rollback act on the RUNNING box of the data dir (the model lives in its
 * process): the CLI finds it by `<dataDir>/ota/runtime.json`, and calls its admin API with
 * --token / $HEARTH_ADMIN_TOKEN, or else with a one-off admin token it creates in the data dir's
 * database and revokes afterwards (whoever can read the data dir is the box's admin anyway).
 * Without a running box they say so and change nothing. status works either way: from the
 * running box when there is one, else read from the data dir.
 */
import type { Command, CommandContext } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { stringFlag } from "../run.ts";
import { systemClock } from "../../clock.ts";
import { HearthError, type ErrorCode } from "../../errors.ts";
import { openDatabase } from "../../store/db.ts";
import { AdminTokenStore } from "../../admin/tokens.ts";
import { runningEndpoint } from "../../../ota/agent/endpoint.ts";
import { offlineStatus } from "../../../ota/agent/offline-status.ts";
import type { OtaStatusView } from "../../../ota/agent/service.ts";
import { BUSY_STATES, type OtaState } from "../../../ota/agent/state.ts";

const OPTIONS = {
  ...DATA_DIR_OPTION,
  token: { type: "string" as const, value: "TOKEN", description: "Admin token of the running box (default: $HEARTH_ADMIN_TOKEN, else a one-off token)" },
  ...JSON_OPTION,
};

type Call = (method: "GET" | "POST", path: string, body?: unknown) => Promise<OtaStatusView>;

/** Runs `fn` against the running box's admin API; null when no box runs for the data dir. */
async function withBox<T>(ctx: CommandContext, fn: (call: Call) => Promise<T>): Promise<T | null> {
  const dataDir = commandConfig(ctx).dataDir;
  const box = runningEndpoint(dataDir);
  if (!box) return null;
  let token = stringFlag(ctx, "token") ?? ctx.io.env.HEARTH_ADMIN_TOKEN;
  let minted: string | null = null;
  if (!token) {
    const db = openDatabase(dataDir);
    try {
      const created = new AdminTokenStore(db, systemClock).create("hearth ota (one-off)");
      [token, minted] = [created.token, created.id];
    } finally {
      db.close();
    }
  }
  const call: Call = async (method, path, body) => {
    const res = await fetch(`${box.url}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => null)) as { error?: { code: ErrorCode; message: string; field?: string } } | null;
    if (!res.ok) throw new HearthError(json?.error?.code ?? "internal", json?.error?.message ?? `the box answered HTTP ${res.status}`, { field: json?.error?.field });
    return json as OtaStatusView;
  };
  try {
    return await fn(call);
  } finally {
    if (minted) {
      const db = openDatabase(dataDir);
      try {
        new AdminTokenStore(db, systemClock).revoke(minted);
      } finally {
        db.close();
      }
    }
  }
}

const notRunning = (ctx: CommandContext) =>
  new HearthError("conflict", `no box is running for data dir ${commandConfig(ctx).dataDir}: start it (hearth serve) first; nothing was checked or changed`);

function describe(v: OtaStatusView): string {
  const r = v.record;
  const lines = [`state:      ${v.state}${r.reason ? ` (${r.reason.code}: ${r.reason.message})` : ""}`, `serving:    ${v.current ?? "unknown"}`];
  if (v.installed.adapters.length > 0) lines.push(`adapters:   ${v.installed.adapters.map((a) => `${a.name} ${a.version}`).join(", ")}`);
  if (r.release && BUSY_STATES.has(r.state as OtaState)) lines.push(`installing: ${r.release.name} ${r.release.version} (${r.release.file})`);
  if (v.progress !== null) lines.push(`progress:   ${Math.round(v.progress * 100)}%`);
  if (r.lastCheck) lines.push(`last check: ${r.lastCheck.at} ${r.lastCheck.outcome}${r.lastCheck.release ? ` ${r.lastCheck.release.name} ${r.lastCheck.release.version}` : ""}${r.lastCheck.reason ? ` (${r.lastCheck.reason.code}: ${r.lastCheck.reason.message})` : ""}`);
  return lines.join("\n");
}

function print(ctx: CommandContext, v: OtaStatusView): number {
  ctx.io.out(ctx.values.json ? JSON.stringify(v) : describe(v));
  return v.state === "failed" || v.state === "rolled-back" ? 1 : 0;
}

const statusCommand: Command = {
  path: ["ota", "status"],
  summary: "Show the update state: serving release, update under way and its progress, last check, why an update failed",
  options: OPTIONS,
  async run(ctx) {
    const live = await withBox(ctx, (call) => call("GET", "/updates"));
    if (live) return (ctx.io.out(ctx.values.json ? JSON.stringify({ running: true, ...live }) : describe(live)), 0);
    const dataDir = commandConfig(ctx).dataDir;
    const db = openDatabase(dataDir);
    try {
      const s = offlineStatus(db, dataDir, systemClock);
      if (ctx.values.json) ctx.io.out(JSON.stringify({ running: false, state: s.record.state, ...s }));
      else {
        const r = s.record;
        const lines = s.lines.map((l) => `  ${l.line}: ${l.active ?? "factory model"}${l.previous ? ` (previous ${l.previous})` : ""}${l.pending ? ", switch pending" : ""}${l.staging ? `, staging ${l.staging}` : ""}`);
        ctx.io.out([`state: ${r.state}${r.reason ? ` (${r.reason.code}: ${r.reason.message})` : ""} — no box is running`, ...lines].join("\n"));
      }
      return 0;
    } finally {
      db.close();
    }
  },
};

/** A command that POSTs to one of the running box's update routes and prints the state. */
function boxCommand(verb: string, summary: string, route: string): Command {
  return {
    path: ["ota", verb],
    summary,
    options: OPTIONS,
    async run(ctx) {
      const v = await withBox(ctx, (call) => call("POST", route, {}));
      if (!v) throw notRunning(ctx);
      ctx.io.out(ctx.values.json ? JSON.stringify(v) : describe(v));
      return 0;
    },
  };
}

const checkCommand = boxCommand("check", "Ask the running box to check its repository now (nothing is installed)", "/updates/check");
const rollbackCommand = boxCommand("rollback", "Have the running box go back to the base model it served before the last update", "/updates/rollback");

/** Polls until the update is no longer under way, showing progress on stderr. */
async function waitDone(ctx: CommandContext, call: Call, first: OtaStatusView): Promise<OtaStatusView> {
  let v = first;
  let shown = "";
  while (BUSY_STATES.has(v.state as OtaState)) {
    const line = `${v.state}${v.progress === null ? "" : ` ${Math.round(v.progress * 100)}%`}`;
    if (line !== shown && !ctx.values.json) ctx.io.err((shown = line));
    await Bun.sleep(250);
    v = await call("GET", "/updates");
  }
  return v;
}

const applyCommand: Command = {
  path: ["ota", "apply"],
  summary: "Have the running box install the channel's release now and wait for the result (exit 1 when refused or rolled back)",
  args: "[RELEASE]",
  options: { ...OPTIONS, "no-wait": { type: "boolean", description: "Return once the download started" } },
  async run(ctx) {
    const release = ctx.positionals[0];
    const v = await withBox(ctx, async (call) => {
      const started = await call("POST", "/updates/apply", release ? { release } : {});
      return ctx.values["no-wait"] ? started : waitDone(ctx, call, started);
    });
    if (!v) throw notRunning(ctx);
    return print(ctx, v);
  },
};

/** `hearth ota status | check | apply | rollback`: the box's update agent (issue 6). */
export const otaCommands: Command[] = [statusCommand, checkCommand, applyCommand, rollbackCommand];
