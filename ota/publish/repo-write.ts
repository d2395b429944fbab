/**
 * Signing and writing the repository's documents. Every write is durable and atomic (temp file,
 * fsync, rename, fsync the directory); manifests are written before the index that names them, so
 * a box never finds an index pointing at a manifest that is not there yet.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { HearthError } from "../../runtime/errors.ts";
import { writeFileDurably } from "../../runtime/license/durable-write.ts";
import { DAY_MS } from "../../runtime/license/time-state.ts";
import { validate } from "../../runtime/validation.ts";
import { INDEX_DOCUMENT, INDEX_TYPE, type ChannelIndex, type IndexEntry } from "../schema/channel-index.ts";
import { OTA_SPEC_VERSION } from "../schema/common.ts";
import { MANIFEST_DOCUMENT, type Manifest } from "../schema/manifest.ts";
import type { RoleName, Root } from "../schema/root.ts";
import { envelopeText, signEnvelope, type DocumentSpec } from "../trust/envelope.ts";
import type { TSchema } from "@sinclair/typebox";
import type { SigningKey } from "./keys.ts";
import { INDEX_FILE, inRepo, manifestFile } from "../layout.ts";
import type { RepoState } from "./repo-state.ts";

/**
 * The given keys that belong to `role`, checked to reach its threshold before anything is hashed
 * or written; keys outside the role do not sign (their signatures would be ignored anyway).
 */
export function roleSigners(root: Root, role: RoleName, keys: readonly SigningKey[]): SigningKey[] {
  const { keyIds, threshold } = root.roles[role];
  const members = keys.filter((k) => keyIds.includes(k.keyId) && root.keys[k.keyId]!.publicKey === k.signer.publicKey);
  if (members.length >= threshold) return members;
  throw new HearthError(
    "invalid_request",
    `the ${role} role of root version ${root.version} needs ${threshold} of its keys (${keyIds.join(", ")}); --key gave ${members.length}`,
    { field: "key" },
  );
}

/** Checks a document the publisher built against the schema the boxes use: a bad flag is named here. */
export function checkDocument<S extends TSchema>(spec: DocumentSpec<S>, value: unknown): void {
  validate(spec.schema, value);
  const problem = spec.problem?.(value as never);
  if (problem) throw new HearthError("invalid_request", problem.text, { field: problem.field });
}

export const isoIn = (now: number, days: number): string => new Date(now + days * DAY_MS).toISOString();

/** Signs and writes a manifest under its content address; the index entry that pins it. */
export function writeManifest(dir: string, manifest: Manifest, signers: readonly SigningKey[]): IndexEntry {
  checkDocument(MANIFEST_DOCUMENT, manifest);
  const bytes = Buffer.from(envelopeText(signEnvelope(manifest, signers)));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const path = manifestFile(manifest.name, manifest.version, sha256);
  if (!existsSync(inRepo(dir, path))) writeFileDurably(inRepo(dir, path), bytes);
  return { name: manifest.name, kind: manifest.kind, version: manifest.version, manifest: path, sha256, length: bytes.byteLength };
}

/** The next index (version + 1) with `channels`, signed and written over index.json. */
export function writeIndex(state: RepoState, channels: ChannelIndex["channels"], signers: readonly SigningKey[], now: number, expiresDays: number): ChannelIndex {
  const index: ChannelIndex = {
    type: INDEX_TYPE,
    specVersion: OTA_SPEC_VERSION,
    version: (state.index?.version ?? 0) + 1,
    issuedAt: new Date(now).toISOString(),
    expiresAt: isoIn(now, expiresDays),
    channels,
  };
  checkDocument(INDEX_DOCUMENT, index);
  writeFileDurably(inRepo(state.dir, INDEX_FILE), envelopeText(signEnvelope(index, signers)));
  return index;
}

/** `channels` with `entry` as the channel's release of its name (and its only base model, for a base model). */
export function withEntry(channels: ChannelIndex["channels"], channel: string, entry: IndexEntry): ChannelIndex["channels"] {
  const kept = (channels[channel]?.releases ?? []).filter((r) => r.name !== entry.name && !(entry.kind === "base-model" && r.kind === "base-model"));
  return { ...channels, [channel]: { releases: [...kept, entry] } };
}
