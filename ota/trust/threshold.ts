/**
 * Threshold signatures: a document is a role's when at least `threshold` DISTINCT keys of that role
 * signed it. Signatures by keys outside the role (or unknown to the root) are ignored, a key that
 * signed twice counts once, and so does one public key listed under two ids.
 */
import { verifyEd25519 } from "../../runtime/crypto/ed25519.ts";
import { refuse, type Refusal } from "../reasons.ts";
import type { RoleName, Root } from "../schema/root.ts";
import { signedBytes, type SignedEnvelope } from "./envelope.ts";

/** The key ids of the role whose signatures verify, each public key once; stops at `stopAt` when given. */
export function validSigners(root: Root, role: RoleName, envelope: SignedEnvelope<unknown>, stopAt?: number): string[] {
  const members = new Set(root.roles[role].keyIds);
  const bytes = signedBytes(envelope.signed);
  const counted = new Set<string>();
  const valid: string[] = [];
  for (const { keyId, sig } of envelope.signatures) {
    const key = members.has(keyId) ? root.keys[keyId] : undefined;
    if (!key || counted.has(key.publicKey)) continue;
    if (!verifyEd25519(key.publicKey, bytes, sig)) continue;
    counted.add(key.publicKey);
    valid.push(keyId);
    if (stopAt !== undefined && valid.length >= stopAt) break;
  }
  return valid;
}

/** Null when a threshold of `role`'s keys in `root` signed the envelope; the refusal otherwise. */
export function checkThreshold(root: Root, role: RoleName, envelope: SignedEnvelope<unknown>, what: string): Refusal | null {
  const { threshold } = root.roles[role];
  const valid = validSigners(root, role, envelope, threshold);
  if (valid.length >= threshold) return null;
  return refuse(
    "insufficient_signatures",
    `the ${what} carries ${valid.length} valid signature${valid.length === 1 ? "" : "s"} of ${role} keys of root version ${root.version}; ${threshold} are required`,
    "signatures",
  );
}
