/**
 * The box's decision on an update, from bytes it fetched (fetching is the agent's): pure, total,
 * and in this order, so the first problem found is the reason reported.
 *
 *   1. planRelease:  the trusted root is fresh; the index is signed by a threshold of index keys,
 *                    not older than the one stored, not expired; the channel lists the release
 *                    wanted → the manifest to fetch, and at most how many bytes (entry.length).
 *   2. verifyRelease: all of 1, then the manifest is byte for byte the one the index pins,
 *                    signed by a threshold of release keys, names what the index says, not expired;
 *                    then channel, runtime version, entitlement, base model, newer than installed
 *                    (or a signed rollback), and rollout membership.
 */
import { createHash } from "node:crypto";
import type { Entitlement } from "../../runtime/license/entitlements.ts";
import { refuse, type Checked, type Refusal } from "../reasons.ts";
import { INDEX_DOCUMENT, MAX_INDEX_BYTES, type ChannelIndex, type IndexEntry } from "../schema/channel-index.ts";
import { MANIFEST_DOCUMENT, type Manifest, type ReleaseKind } from "../schema/manifest.ts";
import type { Root } from "../schema/root.ts";
import { openSigned, parseEnvelope } from "../trust/envelope.ts";
import { checkRootFresh } from "../trust/root-chain.ts";
import { checkThreshold } from "../trust/threshold.ts";
import { checkBase, checkChannel, checkEntitlement, checkExpiry, checkIndexVersion, checkNewer, checkRuntime, type InstalledRelease } from "./checks.ts";
import { checkRollout, type RolloutMembership } from "./rollout.ts";

/** The facts about this box a release is judged against. */
export interface OtaDevice {
  /** The device id (identity/device-key.ts): the rollout hash is taken over it. */
  id: string;
  /** Its groups (telemetry.groups): a rollout may name them. */
  groups: readonly string[];
  /** The channel it follows (config ota.channel, else the license's updateChannelFor). */
  channel: string;
  /** The license's entitlement gate. */
  gate: { has(entitlement: Entitlement): boolean };
  /** This runtime's version (package.json). */
  runtimeVersion: string;
}

export interface PlanInput {
  /** The trusted root (loadTrustedRoot / nextRoot). */
  root: Root;
  /** index.json as fetched; the caller reads at most MAX_INDEX_BYTES + 1. */
  index: Uint8Array;
  /** The highest index version this box accepted before; 0 when none. */
  storedIndexVersion: number;
  /** Which release of the channel: the base model, or a LoRA adapter (by name when several). */
  want: { kind: ReleaseKind; name?: string };
  device: OtaDevice;
  /** Trusted time (license/trusted-time.ts), ms. */
  now: number;
}

export interface ReleaseInput extends PlanInput {
  /** The manifest the plan named, as fetched; the caller reads at most entry.length + 1 bytes. */
  manifest: Uint8Array;
  /** The installed release of the same kind (a LoRA: of the same name); null when none. */
  installed: InstalledRelease | null;
  /** The base model serving now, for a LoRA's base requirement. */
  activeBase: InstalledRelease | null;
  /** A version an explicit signed rollback allows (checks.ts checkNewer). */
  allowRollbackTo?: string;
}

/** Once the index verified, the agent stores `index.version` even when the release is refused. */
export type Plan = { ok: true; index: ChannelIndex; entry: IndexEntry } | (Refusal & { index: ChannelIndex | null });
export type ReleaseDecision =
  | { ok: true; index: ChannelIndex; entry: IndexEntry; manifest: Manifest; rollout: RolloutMembership }
  | (Refusal & { index: ChannelIndex | null });

/** The channel index, verified against the root, the stored version and the time. */
export function verifyIndex(root: Root, bytes: Uint8Array, opts: { storedIndexVersion: number; now: number }): Checked<ChannelIndex> {
  const stale = checkRootFresh(root, opts.now);
  if (stale) return stale;
  const envelope = parseEnvelope(bytes, MAX_INDEX_BYTES, "channel index");
  if (!envelope.ok) return envelope;
  const unsigned = checkThreshold(root, "index", envelope.value, "channel index");
  if (unsigned) return unsigned;
  const index = openSigned(envelope.value, INDEX_DOCUMENT);
  if (!index.ok) return index;
  return checkIndexVersion(index.value.version, opts.storedIndexVersion) ?? checkExpiry("channel index", index.value.expiresAt, opts.now, "index_expired") ?? index;
}

/** The channel's release of the kind (and name) wanted. */
export function selectRelease(index: ChannelIndex, channel: string, want: PlanInput["want"]): Checked<IndexEntry> {
  const releases = index.channels[channel]?.releases ?? [];
  const matches = releases.filter((r) => r.kind === want.kind && (want.name === undefined || r.name === want.name));
  const what = `${want.kind}${want.name ? ` ${want.name}` : ""}`;
  if (matches.length === 0) return refuse("no_release", `channel ${channel} lists no ${what} release (index version ${index.version})`, "channels");
  if (matches.length > 1) return refuse("no_release", `channel ${channel} lists ${matches.length} ${want.kind} releases; name the one wanted`, "channels");
  return { ok: true, value: matches[0]! };
}

export function planRelease(input: PlanInput): Plan {
  const index = verifyIndex(input.root, input.index, input);
  if (!index.ok) return { ...index, index: null };
  const entry = selectRelease(index.value, input.device.channel, input.want);
  return entry.ok ? { ok: true, index: index.value, entry: entry.value } : { ...entry, index: index.value };
}

/** The manifest the index entry pins: same bytes (length, sha256), a threshold of release keys, same release, fresh. */
export function verifyManifest(root: Root, entry: IndexEntry, bytes: Uint8Array, now: number): Checked<Manifest> {
  if (bytes.byteLength > entry.length) return refuse("oversized", `the manifest is longer than the ${entry.length} bytes the index declares`);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (bytes.byteLength !== entry.length || sha256 !== entry.sha256) {
    return refuse("manifest_mismatch", `the manifest (${bytes.byteLength} bytes, sha256 ${sha256}) is not the one the index pins (${entry.length} bytes, sha256 ${entry.sha256})`);
  }
  const envelope = parseEnvelope(bytes, entry.length, "release manifest");
  if (!envelope.ok) return envelope;
  const unsigned = checkThreshold(root, "release", envelope.value, "release manifest");
  if (unsigned) return unsigned;
  const manifest = openSigned(envelope.value, MANIFEST_DOCUMENT);
  if (!manifest.ok) return manifest;
  const m = manifest.value;
  for (const field of ["name", "kind", "version"] as const) {
    if (m[field] !== entry[field]) return refuse("manifest_mismatch", `the manifest's ${field} is ${m[field]}; the index lists ${entry[field]}`, field);
  }
  return checkExpiry(`manifest of ${m.name} ${m.version}`, m.expiresAt, now, "manifest_expired") ?? manifest;
}

export function verifyRelease(input: ReleaseInput): ReleaseDecision {
  const plan = planRelease(input);
  if (!plan.ok) return plan;
  const manifest = verifyManifest(input.root, plan.entry, input.manifest, input.now);
  if (!manifest.ok) return { ...manifest, index: plan.index };
  const m = manifest.value;
  const refusal =
    checkChannel(m, input.device.channel) ??
    checkRuntime(m, input.device.runtimeVersion) ??
    checkEntitlement(m, input.device.gate) ??
    checkBase(m, input.activeBase) ??
    checkNewer(m, input.installed, { allowRollbackTo: input.allowRollbackTo });
  if (refusal) return { ...refusal, index: plan.index };
  const rollout = checkRollout(m.rollout, input.device, m);
  if (!rollout.ok) return { ...rollout, index: plan.index };
  return { ok: true, index: plan.index, entry: plan.entry, manifest: m, rollout: rollout.value };
}
