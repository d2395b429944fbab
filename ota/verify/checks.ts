/**
 * The pure checks between a verified release and this box, each returning null or a refusal with
 * its stable code: freshness, rollback, channel, runtime version, entitlement, base model. Total:
 * the release's versions are schema-checked semver; the box's own may be anything.
 */
import { ENTITLEMENTS, type Entitlement } from "../../runtime/license/entitlements.ts";
import { refuse, type OtaRefusalCode, type Refusal } from "../reasons.ts";
import type { Manifest } from "../schema/manifest.ts";
import { compareVersions, parseSemver, satisfies } from "./semver.ts";

/** A release installed on the box: its name and version, and the file's SHA-256 when known. */
export interface InstalledRelease {
  name: string;
  version: string;
  sha256?: string;
}

/** Null before `expiresAt`; `code` once it has passed at `now` (ms, trusted time). */
export function checkExpiry(what: string, expiresAt: string, now: number, code: OtaRefusalCode): Refusal | null {
  if (Date.parse(expiresAt) > now) return null;
  return refuse(code, `the ${what} expired at ${expiresAt} (trusted time ${new Date(now).toISOString()})`, "expiresAt");
}

/** An index older than the newest one this box accepted is a rollback; the same version is fine. */
export function checkIndexVersion(version: number, storedVersion: number): Refusal | null {
  if (version >= storedVersion) return null;
  return refuse("index_rollback", `the channel index has version ${version}; this box already accepted version ${storedVersion}`, "version");
}

export interface RollbackOptions {
  /** A version an explicit, signed rollback command allows installing although it is older. */
  allowRollbackTo?: string;
}

/**
 * Whether `release` may replace `installed` (the same name; another name, or nothing installed,
 * is a new install): it must be newer, or exactly the version a signed rollback names.
 */
export function checkNewer(release: { name: string; version: string }, installed: InstalledRelease | null, opts: RollbackOptions = {}): Refusal | null {
  // An installed version that is not semver (hand-placed files) cannot be ordered: the index
  // version still guards against rollback, so it is treated as replaceable.
  if (!installed || installed.name !== release.name || !parseSemver(installed.version)) return null;
  const order = compareVersions(release.version, installed.version);
  if (order > 0) return null;
  if (order === 0) return refuse("up_to_date", `${release.name} ${installed.version} is installed: nothing to do`, "version");
  const allowed = opts.allowRollbackTo;
  if (allowed !== undefined && parseSemver(allowed) && compareVersions(allowed, release.version) === 0) return null;
  return refuse(
    "older_than_installed",
    `${release.name} ${release.version} is older than the installed ${installed.version}; only an explicit signed rollback to ${release.version} installs it`,
    "version",
  );
}

export function checkChannel(manifest: Manifest, channel: string): Refusal | null {
  if (manifest.channel === channel) return null;
  return refuse("wrong_channel", `${manifest.name} ${manifest.version} is for channel ${manifest.channel}; this box follows ${channel}`, "channel");
}

export function checkRuntime(manifest: Manifest, runtimeVersion: string): Refusal | null {
  if (parseSemver(runtimeVersion) && compareVersions(runtimeVersion, manifest.minRuntimeVersion) >= 0) return null;
  return refuse("runtime_too_old", `${manifest.name} ${manifest.version} needs runtime ${manifest.minRuntimeVersion} or newer; this box runs ${runtimeVersion}`, "minRuntimeVersion");
}

const isEntitlement = (name: string): name is Entitlement => (ENTITLEMENTS as readonly string[]).includes(name);

/** `gate` is the license's entitlement gate (license/entitlements.ts) or anything with its `has`. */
export function checkEntitlement(manifest: Manifest, gate: { has(entitlement: Entitlement): boolean }): Refusal | null {
  const needed = manifest.entitlement;
  if (needed === undefined) return null;
  if (!isEntitlement(needed)) return refuse("entitlement_required", `${manifest.name} ${manifest.version} requires entitlement "${needed}", which this runtime does not know`, "entitlement");
  if (gate.has(needed)) return null;
  return refuse("entitlement_required", `${manifest.name} ${manifest.version} requires the "${needed}" entitlement, which the license in force does not grant`, "entitlement");
}

/** A LoRA adapter applies only on top of the base model it names (name, version range, file hash). */
export function checkBase(manifest: Manifest, activeBase: InstalledRelease | null): Refusal | null {
  const base = manifest.base;
  if (!base) return null;
  const wanted = `${base.name} ${base.versions}${base.sha256 ? ` (sha256 ${base.sha256.slice(0, 12)}…)` : ""}`;
  const refusal = (why: string) => refuse("base_mismatch", `${manifest.name} ${manifest.version} applies to ${wanted}; ${why}`, "base");
  if (!activeBase) return refusal("no base model installed by an update is active");
  if (activeBase.name !== base.name) return refusal(`the active base model is ${activeBase.name}`);
  if (!satisfies(activeBase.version, base.versions)) return refusal(`the active base model is version ${activeBase.version}`);
  if (base.sha256 && activeBase.sha256 !== base.sha256) return refusal(`the active base model's file has sha256 ${activeBase.sha256 ?? "unknown"}`);
  return null;
}
