/**
 * Repository documents written as an attacker (or a broken publisher) would: any manifest, signed
 * by any keys, behind any index, with no publisher check in the way. Each call writes the
 * manifest and a new index.json (the next version unless told) pinning it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileDurably } from "../../../runtime/license/durable-write.ts";
import type { SigningKey } from "../../../ota/publish/keys.ts";
import { INDEX_TYPE } from "../../../ota/schema/channel-index.ts";
import { RELEASE_TYPE } from "../../../ota/schema/manifest.ts";
import { envelopeText, signEnvelope } from "../../../ota/trust/envelope.ts";
import type { TestRepo } from "./fixture.ts";

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

export interface FileRef {
  name: string;
  size: number;
  sha256: string;
  urls: string[];
}

export function manifestDoc(version: string, file: FileRef, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    type: RELEASE_TYPE,
    specVersion: 1,
    kind: "base-model",
    name: "demo",
    version,
    channel: "stable",
    files: [{ quantization: "F16", ...file }],
    minRuntimeVersion: "0.0.0",
    rollout: { percent: 100, groups: [] },
    issuedAt: iso(now - DAY),
    expiresAt: iso(now + 30 * DAY),
    ...over,
  };
}

/** The version of the repository's index.json; 0 before the first. */
export function currentIndexVersion(repo: TestRepo): number {
  if (!existsSync(join(repo.dir, "index.json"))) return 0;
  return JSON.parse(readFileSync(join(repo.dir, "index.json"), "utf8")).signed.version as number;
}

export interface WriteOptions {
  /** Who signs the manifest / the index; default the repository's release key. Empty: unsigned. */
  manifestKeys?: SigningKey[];
  indexKeys?: SigningKey[];
  /** Fields of the index entry and of the index itself to override. */
  entry?: Record<string, unknown>;
  index?: Record<string, unknown>;
}

export function writeRelease(repo: TestRepo, manifest: Record<string, unknown>, o: WriteOptions = {}): void {
  const bytes = Buffer.from(envelopeText(signEnvelope(manifest, o.manifestKeys ?? [repo.key])));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const path = `manifests/demo/${manifest.version as string}/${sha256}.json`;
  writeFileDurably(join(repo.dir, path), bytes);
  const entry = { name: manifest.name, kind: manifest.kind, version: manifest.version, manifest: path, sha256, length: bytes.byteLength, ...o.entry };
  const now = Date.now();
  const index = {
    type: INDEX_TYPE,
    specVersion: 1,
    version: currentIndexVersion(repo) + 1,
    issuedAt: iso(now - 1000),
    expiresAt: iso(now + 7 * DAY),
    channels: { stable: { releases: [entry] } },
    ...o.index,
  };
  writeFileDurably(join(repo.dir, "index.json"), envelopeText(signEnvelope(index, o.indexKeys ?? [repo.key])));
}
