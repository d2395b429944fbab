/** The dashboard's status and the models page: read from what the server already holds. */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ModelReport } from "../../engine/model-host.ts";
import type { AdminDeps } from "../deps.ts";
import type { AdminHandlers } from "../router.ts";
import type { Health, ModelsResponse, StatusResponse } from "../schemas/status.ts";

async function healthOf(deps: AdminDeps): Promise<Health | null> {
  // The cache's sample; only the first read after start (or a long pause) waits for one.
  const reading = await deps.health.current();
  return reading ? { sampledAt: new Date(reading.sampledAt).toISOString(), ...reading.snapshot } : null;
}

function fileFacts(path: string): { sizeBytes: number; modifiedAt: string } | null {
  try {
    const s = statSync(path);
    return s.isFile() ? { sizeBytes: s.size, modifiedAt: s.mtime.toISOString() } : null;
  } catch {
    return null;
  }
}

/** GGUF files in the data dir's models folder and every configured path that exists. */
function installedModels(deps: AdminDeps, served: Set<string>): ModelsResponse["installed"] {
  const paths = new Set<string>();
  try {
    for (const f of readdirSync(join(deps.dataDir, "models"))) if (f.endsWith(".gguf")) paths.add(resolve(deps.dataDir, "models", f));
  } catch {
    // No models folder: only configured paths.
  }
  if (deps.config.model.path) paths.add(resolve(deps.config.model.path));
  for (const m of deps.config.models) paths.add(resolve(m.path));
  return [...paths].sort().flatMap((path) => {
    const facts = fileFacts(path);
    return facts ? [{ path, ...facts, served: served.has(path) }] : [];
  });
}

export function statusHandlers(deps: AdminDeps): Pick<AdminHandlers, "getStatus" | "listModels"> {
  return {
    getStatus: async (): Promise<StatusResponse> => {
      const { board, license } = deps.box();
      const reports = deps.models.models();
      const now = deps.clock.now();
      return {
        version: deps.version,
        startedAt: new Date(deps.startedAt).toISOString(),
        uptimeSeconds: Math.max(0, Math.floor((now - deps.startedAt) / 1000)),
        board,
        kernel: reports.find((m) => m.kernel)?.kernel ?? null,
        models: reports.map(({ id, field, state, code, reason, slots }) => ({ id, field, state, code, reason, slots })),
        license: license ? { tier: license.tier, reason: license.reason } : null,
        health: await healthOf(deps),
        healthError: deps.health.lastError(),
      };
    },

    listModels: (): ModelsResponse => {
      const engines = new Map(deps.models.served().map((e) => [e.model.id, e.model]));
      const primary = deps.models.status();
      const active = primary.state === "ready" ? primary.model : null;
      const { primaryFit } = deps.box();
      const detail = (m: ModelReport) => ({
        id: m.id,
        field: m.field,
        state: m.state,
        active: m.field === "model",
        code: m.code,
        reason: m.reason,
        path: m.path,
        sizeBytes: fileFacts(m.path)?.sizeBytes ?? null,
        contextSize: m.contextSize,
        parallel: m.parallel,
        queueSize: m.queueSize,
        slots: m.slots,
        kernel: m.kernel,
        settings: m.settings,
        loadMs: engines.get(m.id)?.loadMs ?? null,
        fit: m.field === "model" ? primaryFit : null,
      });
      const models = deps.models.models().map(detail);
      return { active, models, installed: installedModels(deps, new Set(models.filter((m) => m.state === "ready").map((m) => resolve(m.path)))) };
    },
  };
}
