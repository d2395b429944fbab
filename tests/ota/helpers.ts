/**
 * A small OTA world for the trust and verification tests: keys per role, a root, a manifest, an
 * index pinning it and a device, all consistent at NOW; each test changes one thing.
 */
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateEd25519, signerFromPem, type Signer } from "../../runtime/crypto/ed25519.ts";
import { entitlementGate } from "../../runtime/license/entitlements.ts";
import { INDEX_TYPE, type ChannelIndex, type IndexEntry } from "../../ota/schema/channel-index.ts";
import { RELEASE_TYPE, type Manifest } from "../../ota/schema/manifest.ts";
import { ROOT_TYPE, type RoleName, type Root } from "../../ota/schema/root.ts";
import { envelopeText, signEnvelope, type SignedEnvelope } from "../../ota/trust/envelope.ts";
import type { OtaDevice, ReleaseInput } from "../../ota/verify/release.ts";

export const DAY = 86_400_000;
export const NOW = Date.parse("2026-11-01T12:00:00Z");
export const iso = (ms: number) => new Date(ms).toISOString();

export const tmp = (prefix = "hearth-ota-") => mkdtempSync(join(tmpdir(), prefix));

export interface TestKey {
  keyId: string;
  publicKey: string;
  signer: Signer;
}

export function testKey(keyId: string): TestKey {
  const signer = signerFromPem(generateEd25519().privateKeyPem);
  return { keyId, publicKey: signer.publicKey, signer };
}

/** Root keys r1..r3 (2 of 3), release keys l1, l2 (1 of 2), index key i1 (1). */
export const K = {
  r1: testKey("root-1"),
  r2: testKey("root-2"),
  r3: testKey("root-3"),
  l1: testKey("release-1"),
  l2: testKey("release-2"),
  i1: testKey("index-1"),
  stranger: testKey("stranger"),
};

export type RoleKeys = Record<RoleName, { keys: TestKey[]; threshold: number }>;

export const ROLE_KEYS: RoleKeys = {
  root: { keys: [K.r1, K.r2, K.r3], threshold: 2 },
  release: { keys: [K.l1, K.l2], threshold: 1 },
  index: { keys: [K.i1], threshold: 1 },
};

export function rootOf(version: number, roles: RoleKeys = ROLE_KEYS, expiresAt = iso(NOW + 365 * DAY)): Root {
  const keys: Root["keys"] = {};
  for (const role of Object.values(roles)) for (const k of role.keys) keys[k.keyId] = { type: "ed25519", publicKey: k.publicKey };
  const role = (name: RoleName) => ({ keyIds: roles[name].keys.map((k) => k.keyId), threshold: roles[name].threshold });
  return { type: ROOT_TYPE, specVersion: 1, version, issuedAt: iso(NOW - DAY), expiresAt, keys, roles: { root: role("root"), release: role("release"), index: role("index") } };
}

export const ROOT = rootOf(1);

export const signed = <T>(doc: T, ...keys: TestKey[]): SignedEnvelope<T> => signEnvelope(doc, keys);
export const bytesOf = (envelope: unknown): Uint8Array => new TextEncoder().encode(typeof envelope === "string" ? envelope : envelopeText(envelope as SignedEnvelope<unknown>));

export function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    type: RELEASE_TYPE,
    specVersion: 1,
    kind: "base-model",
    name: "demo",
    version: "1.1.0",
    channel: "stable",
    files: [{ name: "demo-q4_0.gguf", quantization: "Q4_0", size: 1000, sha256: "a".repeat(64), urls: ["files/aaaa/demo-q4_0.gguf"] }],
    minRuntimeVersion: "0.1.0",
    rollout: { percent: 100, groups: [] },
    issuedAt: iso(NOW - DAY),
    expiresAt: iso(NOW + 30 * DAY),
    ...over,
  };
}

export function entryFor(m: Manifest, bytes: Uint8Array): IndexEntry {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { name: m.name, kind: m.kind, version: m.version, manifest: `manifests/${m.name}/${m.version}/${sha256}.json`, sha256, length: bytes.byteLength };
}

export function index(entries: Record<string, IndexEntry[]>, over: Partial<ChannelIndex> = {}): ChannelIndex {
  const channels = Object.fromEntries(Object.entries(entries).map(([c, releases]) => [c, { releases }]));
  return { type: INDEX_TYPE, specVersion: 1, version: 5, issuedAt: iso(NOW - DAY), expiresAt: iso(NOW + 7 * DAY), channels, ...over };
}

export function device(over: Partial<OtaDevice> = {}): OtaDevice {
  return { id: "hd-test-device-1", groups: [], channel: "stable", gate: entitlementGate("smb", ["base_model_updates", "lora_adapters"], "test"), runtimeVersion: "0.1.0", ...over };
}

/** A consistent release check: the manifest signed by l1, an index (version 5) by i1 pinning it. */
export function scenario(opts: { manifest?: Partial<Manifest>; index?: Partial<ChannelIndex>; input?: Partial<ReleaseInput> } = {}): ReleaseInput {
  const m = manifest(opts.manifest);
  const manifestBytes = bytesOf(signed(m, K.l1));
  const idx = index({ [m.channel]: [entryFor(m, manifestBytes)] }, opts.index);
  return {
    root: ROOT,
    index: bytesOf(signed(idx, K.i1)),
    manifest: manifestBytes,
    storedIndexVersion: 4,
    want: { kind: m.kind, ...(m.kind === "lora" ? { name: m.name } : {}) },
    device: device(),
    installed: { name: "demo", version: "1.0.0" },
    activeBase: null,
    now: NOW,
    ...opts.input,
  };
}
