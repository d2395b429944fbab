/**
 * Ed25519 with node:crypto (no hand-written crypto). Public keys travel as base64 of the raw 32
 * bytes, signatures as base64 of the raw 64 bytes; private keys live in PKCS#8 PEM files.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

/** Something that signs with one Ed25519 key: the device identity, a vendor key, a fleet key. */
export interface Signer {
  /** Base64 of the raw 32-byte public key. */
  readonly publicKey: string;
  /** Base64 of the 64-byte signature over `data`. */
  sign(data: Uint8Array): string;
}

export interface GeneratedKey {
  privateKeyPem: string;
  publicKey: string;
}

export function generateEd25519(): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey: rawPublicKey(publicKey) };
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" }) as { x?: string };
  if (!jwk.x) throw new TypeError("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url").toString("base64");
}

/** A signer from a PKCS#8 PEM private key; throws a TypeError when the PEM is not an Ed25519 key. */
export function signerFromPem(pem: string): Signer {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new TypeError(`expected an Ed25519 private key, got ${key.asymmetricKeyType}`);
  const publicKey = rawPublicKey(createPublicKey(key));
  return { publicKey, sign: (data) => sign(null, data, key).toString("base64") };
}

const publicKeys = new Map<string, KeyObject>();

/** The KeyObject for a base64 raw public key, or null when it is not 32 bytes of base64. */
export function publicKeyObject(publicKey: string): KeyObject | null {
  const cached = publicKeys.get(publicKey);
  if (cached) return cached;
  const raw = Buffer.from(publicKey, "base64");
  if (raw.length !== 32 || raw.toString("base64") !== publicKey) return null;
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  publicKeys.set(publicKey, key);
  return key;
}

/** True only for a valid signature; malformed keys or signatures are simply not valid (no throw). */
export function verifyEd25519(publicKey: string, data: Uint8Array, signature: string): boolean {
  const key = publicKeyObject(publicKey);
  if (!key || typeof signature !== "string") return false;
  const sig = Buffer.from(signature, "base64");
  if (sig.length !== 64 || sig.toString("base64") !== signature) return false;
  try {
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}
