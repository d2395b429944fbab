/**
 * `hearth fleet publish`: a new release into the repository. Everything that can be refused is
 * checked before the files are hashed (a multi-GB hash should not end in "wrong key"): the keys
 * reach the release and index thresholds, the version is newer than the channel's current one of
 * that name, the flags make a valid manifest. Then files, manifest, and the index last.
 */
import type { Clock } from "../../runtime/clock.ts";
import { HearthError } from "../../runtime/errors.ts";
import { describeModel } from "../../runtime/model/info.ts";
import { OTA_SPEC_VERSION } from "../schema/common.ts";
import { MANIFEST_DOCUMENT, RELEASE_TYPE, type BaseRequirement, type Manifest, type ReleaseFile, type ReleaseKind, type Rollout } from "../schema/manifest.ts";
import type { ChannelIndex, IndexEntry } from "../schema/channel-index.ts";
import { compareVersions, parseRange, parseSemver } from "../verify/semver.ts";
import type { SigningKey } from "./keys.ts";
import { withRepoLock } from "./lock.ts";
import { placeFile, publishedName } from "./place-file.ts";
import { readRepo } from "./repo-state.ts";
import { checkDocument, isoIn, roleSigners, withEntry, writeIndex, writeManifest } from "./repo-write.ts";

export interface PublishRequest {
  repo: string;
  files: readonly string[];
  kind: ReleaseKind;
  name: string;
  version: string;
  channel: string;
  base?: BaseRequirement;
  entitlement?: string;
  minRuntimeVersion: string;
  rollout: Rollout;
  /** Days until the manifest and the index expire. */
  expiresDays: number;
  /** A CDN or mirror holding the repository's files/ tree, listed before the repository itself. */
  urlBase?: string;
  keys: readonly SigningKey[];
}

export interface Published {
  manifest: Manifest;
  entry: IndexEntry;
  index: ChannelIndex;
}

const bad = (field: string, text: string): never => {
  throw new HearthError("invalid_request", text, { field });
};

function checkRequest(req: PublishRequest): void {
  if (req.files.length === 0) bad("files", "name at least one file to publish");
  const names = req.files.map(publishedName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) bad("files", `two files are named ${twice}; each quantization needs its own file name`);
  if (!parseSemver(req.version)) bad("version", `--version ${JSON.stringify(req.version)} is not a semantic version (e.g. 1.2.0)`);
  if (!parseSemver(req.minRuntimeVersion)) bad("min-runtime", `--min-runtime ${JSON.stringify(req.minRuntimeVersion)} is not a semantic version`);
  if (req.kind === "lora" && !req.base) bad("base", "a lora release needs --base NAME@VERSIONS (the base model it applies to)");
  if (req.kind === "base-model" && req.base) bad("base", "--base is only for --kind lora");
  if (req.base && !parseRange(req.base.versions)) bad("base", `--base: ${JSON.stringify(req.base.versions)} is not a version range (e.g. 1.2.0, ^1.2.0, >=1.2.0 <2.0.0)`);
  if (req.urlBase !== undefined && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(req.urlBase)) bad("url-base", `--url-base ${req.urlBase} must be an http:// or https:// URL`);
  // The manifest as the boxes' schema sees it, with a stand-in for the files not hashed yet.
  checkDocument(MANIFEST_DOCUMENT, buildManifest(req, [PLACEHOLDER_FILE], 0));
}

const PLACEHOLDER_FILE: ReleaseFile = { name: "file", quantization: "F16", size: 1, sha256: "0".repeat(64), urls: ["files/file"] };

function buildManifest(req: PublishRequest, files: ReleaseFile[], now: number): Manifest {
  return {
    type: RELEASE_TYPE,
    specVersion: OTA_SPEC_VERSION,
    kind: req.kind,
    name: req.name,
    version: req.version,
    channel: req.channel,
    files,
    ...(req.base ? { base: req.base } : {}),
    minRuntimeVersion: req.minRuntimeVersion,
    ...(req.entitlement ? { entitlement: req.entitlement } : {}),
    rollout: req.rollout,
    issuedAt: new Date(now).toISOString(),
    expiresAt: isoIn(now, req.expiresDays),
  };
}

/** The channel's current release this one replaces must be older (and of the same kind). */
function checkNewerThanCurrent(index: ChannelIndex | null, req: PublishRequest): void {
  const current = index?.channels[req.channel]?.releases.find((r) => r.name === req.name);
  if (!current) return;
  if (current.kind !== req.kind) bad("kind", `channel ${req.channel} has ${req.name} as a ${current.kind} release; it cannot become a ${req.kind}`);
  if (compareVersions(req.version, current.version) <= 0) {
    throw new HearthError(
      "release_rejected",
      `channel ${req.channel} is at ${req.name} ${current.version}; publish a newer version (boxes refuse older ones; to go back, re-publish the old files as a newer version)`,
      { field: "version" },
    );
  }
}

async function releaseFile(repo: string, source: string, urlBase: string | undefined): Promise<ReleaseFile> {
  const quantization = (await describeModel(source)).fileType ?? "unknown";
  const placed = await placeFile(repo, source);
  const urls = urlBase ? [`${urlBase.replace(/\/+$/, "")}/${placed.path}`, placed.path] : [placed.path];
  return { name: placed.name, quantization: quantization.replace(/[^A-Za-z0-9_()-]/g, "_").slice(0, 32), size: placed.size, sha256: placed.sha256, urls };
}

export async function publishRelease(req: PublishRequest, clock: Clock): Promise<Published> {
  checkRequest(req);
  return withRepoLock(req.repo, async () => {
    const state = readRepo(req.repo);
    const releaseSigners = roleSigners(state.root, "release", req.keys);
    const indexSigners = roleSigners(state.root, "index", req.keys);
    checkNewerThanCurrent(state.index, req);
    const files: ReleaseFile[] = [];
    for (const source of req.files) files.push(await releaseFile(req.repo, source, req.urlBase));
    const now = clock.now();
    const manifest = buildManifest(req, files, now);
    const entry = writeManifest(req.repo, manifest, releaseSigners);
    const index = writeIndex(state, withEntry(state.index?.channels ?? {}, req.channel, entry), indexSigners, now, req.expiresDays);
    return { manifest, entry, index };
  });
}
