/**
 * From a check to a plan: which release a line wants (the base model, or an adapter by name), what
 * is installed on that line, the verified decision, and for an accepted release the file for this
 * board with the URLs to fetch it from.
 */
import { HearthError } from "../../runtime/errors.ts";
import { fileUrls, type InstalledRelease, type Manifest, type ReleaseDecision, type ReleaseKind } from "../verify/index.ts";
import { checkRelease, type CheckContext } from "./check.ts";
import { downloadFailed } from "./errors.ts";
import type { InstallPlan } from "./install.ts";
import { servedBase, type OtaLines } from "./lines.ts";
import { pickFile, type PickDeps } from "./pick-file.ts";
import type { LastCheck, OtaRecord } from "./state.ts";

export interface Want {
  kind: ReleaseKind;
  name?: string;
}

/** Refusals that say "nothing to do here" rather than "something is wrong". */
export const NOTHING_TO_DO: ReadonlySet<string> = new Set(["up_to_date", "not_in_rollout", "no_release"]);

/** The release installed on the line `want` names (an adapter by name), or null. */
function installedOn(lines: OtaLines, record: OtaRecord, want: Want): InstalledRelease | null {
  if (want.kind === "base-model") return servedBase(lines, record);
  const active = lines.lora(want.name!).current().active;
  return active && record.adapterBases[want.name!] ? { name: active.release.name, version: active.release.version, sha256: active.release.sha256 } : null;
}

export async function decide(ctx: CheckContext, lines: OtaLines, record: OtaRecord, want: Want, allowRollbackTo?: string): Promise<ReleaseDecision> {
  return checkRelease(ctx, { want, installed: installedOn(lines, record, want), activeBase: servedBase(lines, record), allowRollbackTo });
}

export function lastCheckOf(decision: ReleaseDecision, at: number): LastCheck {
  const iso = new Date(at).toISOString();
  if (decision.ok) return { at: iso, outcome: "available", release: { kind: decision.manifest.kind, name: decision.manifest.name, version: decision.manifest.version }, reason: null };
  const outcome = NOTHING_TO_DO.has(decision.code) ? "up-to-date" : "refused";
  return { at: iso, outcome, release: null, reason: { code: decision.code, message: decision.message } };
}

/** The file for this board and where to fetch it; throws when there is none this box can use. */
export async function planInstall(manifest: Manifest, repoUrl: string, pick: Omit<PickDeps, "urlsOf">): Promise<InstallPlan> {
  const urlsOf = (f: Manifest["files"][number]) => fileUrls(repoUrl, f);
  const picked = await pickFile(manifest, { ...pick, urlsOf });
  const urls = urlsOf(picked.file);
  if (urls.length === 0) throw downloadFailed("bad_url", `${picked.file.name} lists no http(s) URL the box may download from`);
  if (manifest.kind === "lora" && !manifest.base) throw new HearthError("release_invalid", `${manifest.name} ${manifest.version}: a LoRA release without its base`);
  const { name: file, quantization, size, sha256 } = picked.file;
  return {
    release: { kind: manifest.kind, name: manifest.name, version: manifest.version, file, quantization, size, sha256, ...(manifest.base ? { base: manifest.base } : {}) },
    urls,
  };
}

/** "name" or "name@version". */
export function parseRelease(release: string | undefined): { name?: string; version?: string } {
  if (release === undefined) return {};
  const at = release.indexOf("@");
  return at < 0 ? { name: release } : { name: release.slice(0, at), version: release.slice(at + 1) };
}

/** The line `release` names: the base model unless the channel's base model has another name. */
export async function wantFor(ctx: CheckContext, lines: OtaLines, record: OtaRecord, release: string | undefined): Promise<Want> {
  const { name } = parseRelease(release);
  if (name === undefined) return { kind: "base-model" };
  const base = await decide(ctx, lines, record, { kind: "base-model" });
  const baseName = base.ok ? base.manifest.name : base.index?.channels[ctx.device.channel]?.releases.find((r) => r.kind === "base-model")?.name;
  return baseName === name ? { kind: "base-model" } : { kind: "lora", name };
}
