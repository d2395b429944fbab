/**
 * Re-issuing what a channel index already lists. `hearth fleet rollout` widens, narrows or targets
 * the rollout of one release; `hearth fleet refresh` re-signs every listed release and the index
 * with fresh expiry dates (due before the index expires, and after a rotation of the release or
 * index keys, since boxes on the new root no longer accept the old keys' signatures). Each
 * re-issued manifest gets a new content address and a new index version pins them all.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Clock } from "../../runtime/clock.ts";
import { HearthError } from "../../runtime/errors.ts";
import { MANIFEST_DOCUMENT, type Manifest } from "../schema/manifest.ts";
import type { ChannelIndex, IndexEntry } from "../schema/channel-index.ts";
import type { SigningKey } from "./keys.ts";
import { inRepo } from "../layout.ts";
import { withRepoLock } from "./lock.ts";
import { readRepo, readSigned, type RepoState } from "./repo-state.ts";
import { isoIn, roleSigners, withEntry, writeIndex, writeManifest } from "./repo-write.ts";

export interface ReissueOptions {
  repo: string;
  /** Days until the re-signed manifests and index expire. */
  expiresDays: number;
  keys: readonly SigningKey[];
}

export interface RolloutRequest extends ReissueOptions {
  channel: string;
  /** The release of the channel; optional when the channel has one release, else its base model. */
  name?: string;
  /** Unchanged when not given. */
  percent?: number;
  /** Replace the groups when given. */
  groups?: string[];
}

function pick(index: ChannelIndex | null, channel: string, name: string | undefined): IndexEntry {
  const releases = index?.channels[channel]?.releases ?? [];
  const found = name !== undefined ? releases.find((r) => r.name === name) : releases.length === 1 ? releases[0] : releases.find((r) => r.kind === "base-model");
  if (found) return found;
  const listed = releases.map((r) => r.name).join(", ") || "nothing";
  throw new HearthError("invalid_request", name !== undefined ? `channel ${channel} has no release ${name} (it lists ${listed})` : `channel ${channel} lists ${listed}; name the release with --name`, {
    field: name !== undefined ? "name" : "channel",
  });
}

/** The manifest an index entry pins, as the repository holds it (bytes checked against the pin). */
function listedManifest(state: RepoState, entry: IndexEntry): Manifest {
  const bytes = readFileSync(inRepo(state.dir, entry.manifest));
  if (createHash("sha256").update(bytes).digest("hex") !== entry.sha256) {
    throw new HearthError("release_invalid", `${entry.manifest} is not the manifest the index pins (it was changed on disk)`, { field: "repo" });
  }
  return readSigned(state.roots, "release", bytes, MANIFEST_DOCUMENT);
}

/** Given the repository, which listed releases to re-issue and what to change in each (null: leave it). */
type Selection = (state: RepoState) => (channel: string, entry: IndexEntry) => ((m: Manifest) => Manifest) | null;

async function reissue(opts: ReissueOptions, clock: Clock, select: Selection) {
  return withRepoLock(opts.repo, async () => {
    const state = readRepo(opts.repo);
    const releaseSigners = roleSigners(state.root, "release", opts.keys);
    const indexSigners = roleSigners(state.root, "index", opts.keys);
    const change = select(state);
    const now = clock.now();
    let channels = state.index?.channels ?? {};
    const manifests: Manifest[] = [];
    for (const [channel, { releases }] of Object.entries(channels)) {
      for (const entry of releases) {
        const update = change(channel, entry);
        if (!update) continue;
        const manifest = { ...update(listedManifest(state, entry)), issuedAt: new Date(now).toISOString(), expiresAt: isoIn(now, opts.expiresDays) };
        channels = withEntry(channels, channel, writeManifest(opts.repo, manifest, releaseSigners));
        manifests.push(manifest);
      }
    }
    return { manifests, index: writeIndex(state, channels, indexSigners, now, opts.expiresDays) };
  });
}

export async function setRollout(req: RolloutRequest, clock: Clock): Promise<{ manifest: Manifest; index: ChannelIndex }> {
  if (req.percent === undefined && req.groups === undefined) throw new HearthError("invalid_request", "give --percent P and/or --group G", { field: "percent" });
  const update = (m: Manifest): Manifest => ({ ...m, rollout: { percent: req.percent ?? m.rollout.percent, groups: req.groups ?? m.rollout.groups } });
  const { manifests, index } = await reissue(req, clock, (state) => {
    const target = pick(state.index, req.channel, req.name);
    return (channel, entry) => (channel === req.channel && entry === target ? update : null);
  });
  return { manifest: manifests[0]!, index };
}

/** Re-signs every release the index lists, and the index, with fresh expiry dates. */
export async function refreshRepo(opts: ReissueOptions, clock: Clock): Promise<{ manifests: Manifest[]; index: ChannelIndex }> {
  return reissue(opts, clock, () => () => (m) => m);
}
