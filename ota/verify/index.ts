/**
 * The device side of OTA verification, as the agent calls it. Everything is pure and total: bytes
 * and facts in, a value or a Refusal with a stable code (reasons.ts) out; fetching, storing and
 * the clock are the caller's.
 */
export { OTA_REFUSALS, type Checked, type OtaRefusalCode, type Refusal } from "../reasons.ts";
export { bootstrapRoot, checkRootFresh, indexKeyRevoked, loadTrustedRoot, nextRoot, type PinnedKey } from "../trust/root-chain.ts";
export { planRelease, selectRelease, verifyIndex, verifyManifest, verifyRelease } from "./release.ts";
export type { OtaDevice, Plan, PlanInput, ReleaseDecision, ReleaseInput } from "./release.ts";
export { checkBase, checkChannel, checkEntitlement, checkExpiry, checkIndexVersion, checkNewer, checkRuntime } from "./checks.ts";
export type { InstalledRelease, RollbackOptions } from "./checks.ts";
export { checkRollout, rolloutBucket, ROLLOUT_BUCKETS, type RolloutMembership } from "./rollout.ts";
export { compareVersions, parseSemver, satisfies } from "./semver.ts";
export { fileUrls } from "./urls.ts";
export { INDEX_FILE, rootFile } from "../layout.ts";
export { MAX_ROOT_BYTES, type Root } from "../schema/root.ts";
export { MAX_INDEX_BYTES, type ChannelIndex, type IndexEntry } from "../schema/channel-index.ts";
export { MAX_MANIFEST_BYTES, type Manifest, type ReleaseFile, type ReleaseKind } from "../schema/manifest.ts";
