import { describe, expect, test } from "bun:test";
import type { Root } from "../../../ota/schema/root.ts";
import { bootstrapRoot, checkRootFresh, indexKeyRevoked, loadTrustedRoot, nextRoot } from "../../../ota/trust/root-chain.ts";
import { checkThreshold } from "../../../ota/trust/threshold.ts";
import type { Checked } from "../../../ota/reasons.ts";
import { bytesOf, DAY, iso, K, manifest, NOW, ROLE_KEYS, rootOf, signed, testKey, type RoleKeys } from "../helpers.ts";

const ROOT1 = rootOf(1);
const root1Bytes = bytesOf(signed(ROOT1, K.r1, K.r2));

const n1 = testKey("root-new-1");
const n2 = testKey("root-new-2");
const l3 = testKey("release-3");
/** Root 2 replaces the root keys with n1, n2 (2 of 2) and release-2 with release-3. */
const ROLES2: RoleKeys = { ...ROLE_KEYS, root: { keys: [n1, n2], threshold: 2 }, release: { keys: [K.l1, l3], threshold: 1 } };
const ROOT2 = rootOf(2, ROLES2);
/** Root 3 keeps root 2's root keys and revokes release-1. */
const ROOT3 = rootOf(3, { ...ROLES2, release: { keys: [l3], threshold: 1 } });

const value = <T>(c: Checked<T>): T => {
  if (!c.ok) throw new Error(`${c.code}: ${c.message}`);
  return c.value;
};

/** The box's walk: from `trusted`, each next document in turn; stops at the first refusal. */
function walk(trusted: Root, docs: Uint8Array[]): { root: Root; refusal: string | null } {
  let root = trusted;
  for (const doc of docs) {
    const next = nextRoot(root, doc);
    if (!next.ok) return { root, refusal: next.code };
    root = next.value;
  }
  return { root, refusal: null };
}

describe("root documents and rotation", () => {
  test("the provisioned root loads when a threshold of its own root keys signed it", () => {
    expect(value(loadTrustedRoot(root1Bytes)).version).toBe(1);
    expect(loadTrustedRoot(bytesOf(signed(ROOT1, K.r1)))).toMatchObject({ code: "insufficient_signatures" });
    expect(loadTrustedRoot(bytesOf(signed(ROOT1, K.l1, K.l2, K.i1)))).toMatchObject({ code: "insufficient_signatures" });
  });

  test("a root whose roles name missing keys, or an unreachable threshold, is malformed", () => {
    const missing = rootOf(1);
    missing.roles.index.keyIds = ["nobody"];
    expect(loadTrustedRoot(bytesOf(signed(missing, K.r1, K.r2)))).toMatchObject({ code: "malformed", field: "roles.index.keyIds" });
    const unreachable = rootOf(1);
    unreachable.roles.release.threshold = 3;
    expect(loadTrustedRoot(bytesOf(signed(unreachable, K.r1, K.r2)))).toMatchObject({ code: "malformed", field: "roles.release.threshold" });
    const badId = rootOf(1);
    badId.keys["not a key id"] = { type: "ed25519", publicKey: K.stranger.publicKey };
    expect(loadTrustedRoot(bytesOf(signed(badId, K.r1, K.r2)))).toMatchObject({ code: "malformed" });
    const duplicate = rootOf(1);
    duplicate.keys["copy"] = { type: "ed25519", publicKey: K.r1.publicKey };
    expect(loadTrustedRoot(bytesOf(signed(duplicate, K.r1, K.r2)))).toMatchObject({ code: "malformed", field: "keys.copy" });
  });

  test("bootstrap from pinned keys counts only the pinned keys' signatures", () => {
    const pinned = [K.r1, K.r2].map(({ keyId, publicKey }) => ({ keyId, publicKey }));
    expect(value(bootstrapRoot(root1Bytes, pinned)).version).toBe(1);
    expect(bootstrapRoot(bytesOf(signed(ROOT1, K.r1, K.r3)), pinned)).toMatchObject({ code: "insufficient_signatures" });
    expect(bootstrapRoot(root1Bytes, [{ keyId: "root-1", publicKey: K.stranger.publicKey }])).toMatchObject({ code: "insufficient_signatures" });
  });

  test("a valid chain 1 → 2 → 3 is walked one version at a time", () => {
    const docs = [bytesOf(signed(ROOT2, K.r1, K.r2, n1, n2)), bytesOf(signed(ROOT3, n1, n2))];
    expect(walk(ROOT1, docs)).toMatchObject({ root: { version: 3 }, refusal: null });
  });

  test("a skipped version is refused, even when every key signed it", () => {
    const root3ByAll = bytesOf(signed(ROOT3, K.r1, K.r2, n1, n2));
    expect(nextRoot(ROOT1, root3ByAll)).toMatchObject({ code: "root_version", field: "version" });
    // And the same version again (a replay of root 1) is no step forward.
    expect(nextRoot(ROOT1, root1Bytes)).toMatchObject({ code: "root_version" });
  });

  test("a new root signed only by its new keys is refused (the old keys must vouch for it)", () => {
    const r = nextRoot(ROOT1, bytesOf(signed(ROOT2, n1, n2)));
    expect(r).toMatchObject({ code: "insufficient_signatures" });
    expect((r as { message: string }).message).toContain("the trusted root's keys must sign the next root");
  });

  test("a new root signed only by the old keys is refused (its own keys must sign it too)", () => {
    const r = nextRoot(ROOT1, bytesOf(signed(ROOT2, K.r1, K.r2, K.r3)));
    expect(r).toMatchObject({ code: "insufficient_signatures" });
    expect((r as { message: string }).message).toContain("also be signed by its own root keys");
  });

  test("after rotation a revoked key cannot sign: not releases, not the next root", () => {
    const root3 = walk(ROOT1, [bytesOf(signed(ROOT2, K.r1, K.r2, n1, n2)), bytesOf(signed(ROOT3, n1, n2))]).root;
    const release = signed(manifest(), K.l1);
    expect(checkThreshold(ROOT1, "release", release, "manifest")).toBeNull();
    expect(checkThreshold(root3, "release", release, "manifest")).toMatchObject({ code: "insufficient_signatures" });
    expect(checkThreshold(root3, "release", signed(manifest(), l3), "manifest")).toBeNull();
    // The old root keys (rotated out at version 2) cannot make a version 4.
    const root4 = rootOf(4, { ...ROLES2, root: { keys: [K.r1, K.r2], threshold: 2 } });
    expect(nextRoot(root3, bytesOf(signed(root4, K.r1, K.r2, K.r3)))).toMatchObject({ code: "insufficient_signatures" });
  });

  test("an expired root is still a link of the chain, but not a final root for fresh data", () => {
    const expired2 = rootOf(2, ROLES2, iso(NOW - 10 * DAY));
    const fresh3 = rootOf(3, ROLES2);
    const { root } = walk(ROOT1, [bytesOf(signed(expired2, K.r1, K.r2, n1, n2)), bytesOf(signed(fresh3, n1, n2))]);
    expect(root.version).toBe(3);
    expect(checkRootFresh(root, NOW)).toBeNull();
    expect(checkRootFresh(expired2, NOW)).toMatchObject({ code: "root_expired", field: "expiresAt" });
    expect(checkRootFresh(ROOT1, Date.parse(ROOT1.expiresAt))).toMatchObject({ code: "root_expired" });
  });

  test("a tampered root document (any value) is refused", () => {
    const env = signed(ROOT2, K.r1, K.r2, n1, n2);
    const tampered = { ...env, signed: { ...env.signed, roles: { ...env.signed.roles, release: { keyIds: ["stranger"], threshold: 1 } } } };
    expect(nextRoot(ROOT1, bytesOf(tampered))).toMatchObject({ code: "insufficient_signatures" });
  });

  test("index keys revoked by a rotation reset the stored index version; added keys do not", () => {
    const i2 = testKey("index-2");
    expect(indexKeyRevoked(ROOT1, rootOf(2, { ...ROLE_KEYS, index: { keys: [i2], threshold: 1 } }))).toBe(true);
    expect(indexKeyRevoked(ROOT1, rootOf(2, { ...ROLE_KEYS, index: { keys: [K.i1, i2], threshold: 2 } }))).toBe(false);
    expect(indexKeyRevoked(ROOT1, ROOT2)).toBe(false);
  });
});
