/**
 * Installing one verified release, step by step, each step recorded before it starts:
 *
 *   downloading  into the line's staging dir (Range resume across restarts; sha256 as it streams)
 *   verifying    the GGUF opens and fits this board (a LoRA: it fits the served base model)
 *   staged       moved into the inactive slot
 *   switching    the pointer names the new slot, pending (atomic, fsynced)
 *   health-check the new engine loads and generates, before it takes a request
 *   committed    the pointer commits; the previous slot stays for `rollback`
 *
 * A failure before the switch leaves the slots as they were (a transient download failure keeps
 * the partial for a resume); after it, the pointer goes back and the previous model serves.
 */
import type { LoraSetting } from "../../runtime/engine/adapters.ts";
import type { InferenceEngine } from "../../runtime/engine/types.ts";
import type { Logger } from "../../runtime/log.ts";
import type { CandidateFit } from "../../runtime/model/fit.ts";
import { checkGgufHeader } from "../../runtime/model/header-check.ts";
import { downloadFile, type DownloadDeps, type DownloadOptions } from "./download.ts";
import { isOtaAgentError } from "./errors.ts";
import { healthCheck, HealthCheckFailed } from "./health-check.ts";
import { reasonOf, type OtaJournal } from "./journal.ts";
import { servedAdapters, type OtaLines } from "./lines.ts";
import type { Serving } from "./serving.ts";
import type { SlotStore } from "./slots.ts";
import type { OtaRecord, OtaRelease } from "./state.ts";

import type { InstallPoint } from "./install-points.ts";
export type { InstallPoint } from "./install-points.ts";

export interface InstallEnv {
  lines: OtaLines;
  serving: Serving;
  journal: OtaJournal;
  logger: Logger;
  download: { deps: DownloadDeps; options: DownloadOptions };
  healthCheckTimeoutMs: number;
  hook: (point: InstallPoint) => Promise<void> | void;
}

export interface InstallPlan {
  release: OtaRelease;
  urls: string[];
}

/** Download failures worth resuming later: the partial stays (a server that keeps stalling is treated as misbehaving: cleaned up). */
const KEEP_PARTIAL: ReadonlySet<string> = new Set(["network", "cancelled"]);

const slotReleaseOf = (r: OtaRelease) => ({ kind: r.kind, name: r.name, version: r.version, file: r.file, sha256: r.sha256, size: r.size });

/** The inactive slot already holds this release, complete (a restart after `staged`). */
function alreadyStaged(slots: SlotStore, r: OtaRelease): boolean {
  const status = slots.current();
  const view = status.slots[slots.inactiveSlot()];
  return !status.staging && view?.state === "staged" && view.release.sha256 === r.sha256 && view.release.file === r.file;
}

/**
 * The staged file opens as a GGUF and fits: a model this board, an adapter the served base. The
 * GGUF readers (node-llama-cpp) load here, not with the server: an idle box does not carry them.
 */
async function verifyStaged(env: InstallEnv, r: OtaRelease, path: string): Promise<CandidateFit | undefined> {
  await checkGgufHeader(path);
  const [{ readGgufFileInfo }, { describeModel }, { checkLoraFile }] = await Promise.all([
    import("node-llama-cpp"),
    import("../../runtime/model/info.ts"),
    import("../../runtime/model/lora/check.ts"),
  ]);
  if (r.kind === "lora") {
    const base = await readGgufFileInfo(env.serving.require().path, { sourceType: "filesystem", logWarnings: false });
    await checkLoraFile(path, base);
    return undefined;
  }
  await describeModel(path);
  return env.serving.require().fitOf(path);
}

/** What serves after the switch: the model file and the OTA adapters on it. */
function servingAfter(env: InstallEnv, record: OtaRecord, r: OtaRelease, path: string): { model: string; loras: LoraSetting[] } {
  if (r.kind === "base-model") {
    const loras = servedAdapters(env.lines, record, { name: r.name, version: r.version, sha256: r.sha256 });
    return { model: path, loras: loras.map(({ path, scale }) => ({ path, scale })) };
  }
  const current = env.serving.require();
  const lineDir = env.lines.lora(r.name).root;
  const others = current.loras.filter((l) => !l.path.startsWith(`${lineDir}/`));
  return { model: current.path, loras: [...others, { path, scale: 1 }] };
}

/** A LoRA that llama.cpp refused is left out by the engine; for an update that is a failure. */
function adapterApplied(engine: InferenceEngine, path: string): void {
  const status = engine.model.adapters.find((a) => a.path === path);
  if (!status?.applied) throw new HealthCheckFailed(`the adapter was not applied: ${status?.reason ?? "the engine did not list it"}`);
}

async function stage(env: InstallEnv, slots: SlotStore, plan: InstallPlan): Promise<CandidateFit | undefined> {
  const { release: r } = plan;
  const target = slots.beginStaging(slotReleaseOf(r));
  try {
    const onProgress = (p: { bytes: number; total: number; rate: number }) => env.journal.progress({ bytes: p.bytes, total: p.total, rate: p.rate });
    await downloadFile({ urls: plan.urls, size: r.size, sha256: r.sha256, dest: target.path }, env.download.deps, { ...env.download.options, onProgress });
    await env.hook("downloaded");
    env.journal.enter("verifying");
    await env.hook("verifying");
    const fit = await verifyStaged(env, r, target.path);
    await env.hook("verified");
    await slots.finishStaging();
    return fit;
  } catch (err) {
    if (!(isOtaAgentError(err) && KEEP_PARTIAL.has(err.reason))) slots.abandonStaging();
    throw err;
  }
}

/** Runs the install; a failure is recorded (failed / rolled-back with the reason) and rethrown. */
export async function install(env: InstallEnv, plan: InstallPlan): Promise<OtaRecord> {
  const { release: r } = plan;
  const slots = env.lines.line(r.kind, r.name);
  env.journal.enter("downloading", { release: r, reason: null });
  await env.hook("download-start");
  let fit: CandidateFit | undefined;
  try {
    if (!alreadyStaged(slots, r)) fit = await stage(env, slots, plan);
  } catch (err) {
    // Cancelled by a shutdown: left "downloading", so the next start resumes the partial.
    if (!isOtaAgentError(err, "cancelled")) env.journal.enter("failed", { reason: reasonOf(err) });
    throw err;
  }
  env.journal.enter("staged");
  await env.hook("staged");
  env.journal.enter("switching");
  await env.hook("switching");
  const switched = slots.switchTo(slots.inactiveSlot());
  await env.hook("switched");
  const path = switched.active!.path;
  try {
    const after = servingAfter(env, env.journal.record, r, path);
    const swapped = await env.serving.swap(
      after.model,
      after.loras,
      async (engine) => {
        await env.hook("loaded");
        env.journal.enter("health-check");
        await env.hook("health-check");
        if (r.kind === "lora") adapterApplied(engine, path);
        const report = await healthCheck(engine, env.healthCheckTimeoutMs);
        env.logger.info("ota health check passed", { release: `${r.name} ${r.version}`, tokens: report.tokens, ms: report.ms });
        await env.hook("healthy");
      },
      fit,
    );
    env.logger.info("ota model swapped", { release: `${r.name} ${r.version}`, beside: swapped.beside });
  } catch (err) {
    slots.rollback();
    const reason = reasonOf(err);
    env.logger.warn("ota update rolled back", { release: `${r.name} ${r.version}`, code: reason.code, reason: reason.message });
    env.journal.enter("rolled-back", { reason, skip: { name: r.name, version: r.version } });
    await env.hook("rolled-back");
    throw err;
  }
  slots.commit();
  await env.hook("pointer-committed"); // a crash here: recover.ts finds the pointer committed and records it
  const record = env.journal.record;
  const committed = r.kind === "base-model" ? { factory: false } : { adapterBases: { ...record.adapterBases, [r.name]: r.base! } };
  env.journal.enter("committed", { reason: null, skip: null, allowRollbackTo: null, ...committed });
  env.logger.info("ota update committed", { release: `${r.name} ${r.version}`, file: r.file });
  await env.hook("committed");
  return env.journal.record;
}
