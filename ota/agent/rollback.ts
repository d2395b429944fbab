/**
 * Going back by hand (`hearth ota rollback`, the admin page, a signed fleet command): the previous
 * slot of the line serves again, or for the base model's first OTA release the factory model
 * (config model.path); for an adapter without a previous release, the adapter is taken off. The
 * new engine is health-checked before it serves, as for an update; the pointer moves only once it
 * serves, so a crash in between leaves the box where it was.
 */
import { HearthError } from "../../runtime/errors.ts";
import { healthCheck } from "./health-check.ts";
import type { OtaJournal } from "./journal.ts";
import { servedAdapters, servedBase, type OtaLines } from "./lines.ts";
import type { Serving } from "./serving.ts";

export interface RollbackEnv {
  lines: OtaLines;
  serving: Serving;
  journal: OtaJournal;
  healthCheckTimeoutMs: number;
  /** config model.path (or the demo model): what served before any OTA release. */
  factoryPath: string;
}

const noPrevious = (what: string) => new HearthError("conflict", `there is nothing to roll back to: ${what}`);

async function rollbackBase(env: RollbackEnv): Promise<void> {
  const record = env.journal.record;
  const status = env.lines.base.current();
  const from = servedBase(env.lines, record);
  if (!from) throw noPrevious("the factory model serves already");
  const check = async (e: Parameters<typeof healthCheck>[0]) => void (await healthCheck(e, env.healthCheckTimeoutMs));
  const prev = status.previous;
  if (prev && prev.state === "committed") {
    const to = { name: prev.release.name, version: prev.release.version, sha256: prev.release.sha256 };
    await env.serving.swap(prev.path, servedAdapters(env.lines, record, to), check);
    env.lines.base.rollback();
  } else {
    await env.serving.swap(env.factoryPath, [], check);
    env.journal.set({ factory: true });
  }
  env.journal.enter("rolled-back", {
    reason: { code: "manual", message: `rolled back from ${from.name} ${from.version} by request` },
    skip: { name: from.name, version: from.version },
  });
}

async function rollbackAdapter(env: RollbackEnv, name: string): Promise<void> {
  const record = env.journal.record;
  const slots = env.lines.lora(name);
  const status = slots.current();
  if (!status.active || !record.adapterBases[name]) throw noPrevious(`adapter ${name} is not installed`);
  const current = env.serving.require();
  const others = current.loras.filter((l) => !l.path.startsWith(`${slots.root}/`));
  const prev = status.previous?.state === "committed" ? status.previous : null;
  await env.serving.swap(current.path, prev ? [...others, { path: prev.path, scale: 1 }] : others, async (e) => void (await healthCheck(e, env.healthCheckTimeoutMs)));
  const bases = { ...record.adapterBases };
  if (prev) slots.rollback();
  else delete bases[name];
  env.journal.enter("rolled-back", {
    reason: { code: "manual", message: `adapter ${name} ${status.active.release.version} ${prev ? `rolled back to ${prev.release.version}` : "taken off"} by request` },
    skip: { name, version: status.active.release.version },
    adapterBases: bases,
  });
}

/** Rolls back the base model, or the adapter named. */
export async function rollback(env: RollbackEnv, adapter?: string): Promise<void> {
  if (adapter === undefined) await rollbackBase(env);
  else await rollbackAdapter(env, adapter);
}
