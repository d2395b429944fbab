/**
 * One check against the repository, as ota/verify prescribes: walk the roots forward from the
 * trusted one (or bootstrap root 1 from the pinned keys), plan from the channel index, fetch the
 * manifest it pins (at most its declared length), verify the release. The trust learnt on the way
 * (a newer root, the index version) is stored even when the release is refused.
 */
import { refuse } from "../reasons.ts";
import {
  bootstrapRoot,
  INDEX_FILE,
  indexKeyRevoked,
  loadTrustedRoot,
  MAX_INDEX_BYTES,
  MAX_ROOT_BYTES,
  nextRoot,
  planRelease,
  rootFile,
  verifyRelease,
  type Checked,
  type InstalledRelease,
  type OtaDevice,
  type PinnedKey,
  type ReleaseDecision,
  type ReleaseKind,
  type Root,
} from "../verify/index.ts";
import type { FetchLike } from "./download-session.ts";
import { fetchBounded } from "./fetch-bounded.ts";
import type { OtaStateStore } from "./state-store.ts";

export interface CheckContext {
  fetch: FetchLike;
  repoUrl: string;
  pinnedKeys: readonly PinnedKey[];
  store: OtaStateStore;
  device: OtaDevice;
  /** Trusted time (license/trusted-time.ts), ms. */
  now: number;
  timeoutMs: number;
}

export interface CheckRequest {
  want: { kind: ReleaseKind; name?: string };
  installed: InstalledRelease | null;
  activeBase: InstalledRelease | null;
  allowRollbackTo?: string;
}

/** Root rotations walked in one check at most: a repository cannot keep a box walking forever. */
const MAX_ROOT_STEPS = 64;

const urlOf = (repo: string, path: string) => new URL(path, repo.endsWith("/") ? repo : `${repo}/`).href;

async function fetchDocument(ctx: CheckContext, path: string, maxBytes: number, what: string): Promise<Checked<Uint8Array> | null> {
  const got = await fetchBounded(ctx.fetch, urlOf(ctx.repoUrl, path), maxBytes, ctx.timeoutMs);
  if (got.status === "not_found") return null;
  if (got.status === "oversized") return refuse("oversized", `the ${what} (${path}) is longer than the ${maxBytes} bytes allowed`);
  return { ok: true, value: got.bytes };
}

/** The newest root this box can trust now, and the index version to hold the index to. */
async function walkRoots(ctx: CheckContext): Promise<Checked<{ root: Root; bytes: Uint8Array; indexVersion: number }>> {
  const stored = ctx.store.trust();
  let start: Checked<Root>;
  let bytes: Uint8Array;
  if (stored) {
    bytes = stored.root;
    start = loadTrustedRoot(bytes);
  } else {
    const first = await fetchDocument(ctx, rootFile(1), MAX_ROOT_BYTES, "first root document");
    if (first === null) return refuse("malformed", `the repository has no ${rootFile(1)}`);
    if (!first.ok) return first;
    bytes = first.value;
    start = bootstrapRoot(bytes, ctx.pinnedKeys);
  }
  if (!start.ok) return start;
  let root = start.value;
  let indexVersion = stored?.indexVersion ?? 0;
  for (let step = 0; step < MAX_ROOT_STEPS; step++) {
    const next = await fetchDocument(ctx, rootFile(root.version + 1), MAX_ROOT_BYTES, `root document version ${root.version + 1}`);
    if (next === null) break;
    if (!next.ok) return next;
    const verified = nextRoot(root, next.value);
    if (!verified.ok) return verified;
    if (indexKeyRevoked(root, verified.value)) indexVersion = 0;
    root = verified.value;
    bytes = next.value;
  }
  ctx.store.saveTrust({ root: bytes, rootVersion: root.version, indexVersion });
  return { ok: true, value: { root, bytes, indexVersion } };
}

/** The decision on the channel's release; network failures throw download_failed. */
export async function checkRelease(ctx: CheckContext, req: CheckRequest): Promise<ReleaseDecision> {
  const trusted = await walkRoots(ctx);
  if (!trusted.ok) return { ...trusted, index: null };
  const { root, bytes: rootBytes, indexVersion } = trusted.value;
  const index = await fetchDocument(ctx, INDEX_FILE, MAX_INDEX_BYTES, "channel index");
  if (index === null) return { ...refuse("no_release", `the repository has no ${INDEX_FILE}`), index: null };
  if (!index.ok) return { ...index, index: null };
  const input = { root, index: index.value, storedIndexVersion: indexVersion, want: req.want, device: ctx.device, now: ctx.now };
  const plan = planRelease(input);
  const remember = (d: ReleaseDecision): ReleaseDecision => {
    if (d.index && d.index.version > indexVersion) ctx.store.saveTrust({ root: rootBytes, rootVersion: root.version, indexVersion: d.index.version });
    return d;
  };
  if (!plan.ok) return remember(plan);
  const manifest = await fetchDocument(ctx, plan.entry.manifest, plan.entry.length, `manifest of ${plan.entry.name} ${plan.entry.version}`);
  if (manifest === null) return remember({ ...refuse("manifest_mismatch", `the manifest the index pins (${plan.entry.manifest}) is not in the repository`), index: plan.index });
  if (!manifest.ok) return remember({ ...manifest, index: plan.index });
  return remember(verifyRelease({ ...input, manifest: manifest.value, installed: req.installed, activeBase: req.activeBase, allowRollbackTo: req.allowRollbackTo }));
}
