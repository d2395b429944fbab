/**
 * Staged rollout membership. Each device gets a bucket 0..9999 from a stable hash of (device id,
 * release name, version): the same box always lands in the same bucket for a release, so raising
 * the percentage only adds boxes, and each new release draws a fresh sample (the same boxes are
 * not always first). A box is in when its bucket is below percent × 100, or when it is in one of
 * the rollout's groups.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../runtime/crypto/canonical.ts";
import { refuse, type Refusal } from "../reasons.ts";
import type { Rollout } from "../schema/manifest.ts";

export const ROLLOUT_BUCKETS = 10_000;

/** The device's bucket for a release: the first 32 bits of SHA-256 modulo 10,000 (bias < 3e-6). */
export function rolloutBucket(deviceId: string, name: string, version: string): number {
  const digest = createHash("sha256").update(canonicalJson([deviceId, name, version])).digest();
  return digest.readUInt32BE(0) % ROLLOUT_BUCKETS;
}

export interface RolloutMembership {
  bucket: number;
  /** Why the box is in: one of its groups is listed, or its bucket is within the percentage. */
  by: "group" | "percent";
}

export function checkRollout(
  rollout: Rollout,
  device: { id: string; groups: readonly string[] },
  release: { name: string; version: string },
): { ok: true; value: RolloutMembership } | Refusal {
  const bucket = rolloutBucket(device.id, release.name, release.version);
  if (rollout.groups.some((g) => device.groups.includes(g))) return { ok: true, value: { bucket, by: "group" } };
  if (bucket < Math.round(rollout.percent * 100)) return { ok: true, value: { bucket, by: "percent" } };
  const groups = rollout.groups.length > 0 ? ` or in group ${rollout.groups.join(", ")}` : "";
  return refuse(
    "not_in_rollout",
    `${release.name} ${release.version} is rolled out to ${rollout.percent}% of devices${groups}; this box (bucket ${bucket} of ${ROLLOUT_BUCKETS}) is not among them yet`,
    "rollout",
  );
}
