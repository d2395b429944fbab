/**
 * Vendor key files, written by `hearth license keygen` on the vendor's machine (never in the
 * image): the private key as PKCS#8 PEM (mode 0600) and, beside it, the public key as a
 * `license.vendorKeys` entry ready to paste into a runtime's config.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { VendorKeyConfig } from "../config/schema.ts";
import { generateEd25519, signerFromPem, type Signer } from "../crypto/ed25519.ts";
import { HearthError } from "../errors.ts";
import { validate } from "../validation.ts";
import { KeyId } from "./schema.ts";
import type { VendorKey } from "./vendor-keys.ts";

export const VENDOR_PRIVATE_KEY_FILE = "vendor-private.pem";
export const VENDOR_PUBLIC_KEY_FILE = "vendor-public.json";

/** A key id from the public key, for keys generated without one: "vendor-" and 12 hex of its SHA-256. */
export function derivedKeyId(publicKey: string): string {
  return `vendor-${createHash("sha256").update(Buffer.from(publicKey, "base64")).digest("hex").slice(0, 12)}`;
}

/** The `--key-id` flag checked against the key id rule licenses and config share. */
export function checkKeyId(keyId: string): string {
  if (Value.Check(KeyId, keyId)) return keyId;
  throw new HearthError("invalid_request", `--key-id: ${JSON.stringify(keyId)} must be 1 to 64 letters, digits, ".", "_" or "-"`, { field: "key-id" });
}

function writeNew(path: string, text: string, mode: number): void {
  const fd = openSync(path, "wx", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface VendorKeyFiles {
  keyId: string;
  publicKey: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

/** Generates a key pair into `dir`; refuses when either file exists (a key is never overwritten). */
export function generateVendorKeyPair(dir: string, keyId?: string): VendorKeyFiles {
  if (keyId !== undefined) checkKeyId(keyId);
  const privateKeyPath = join(dir, VENDOR_PRIVATE_KEY_FILE);
  const publicKeyPath = join(dir, VENDOR_PUBLIC_KEY_FILE);
  for (const path of [privateKeyPath, publicKeyPath]) {
    if (existsSync(path)) throw new HearthError("invalid_request", `${path} already exists; keygen never overwrites a key (choose another --out)`, { field: "out" });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = generateEd25519();
  const entry: VendorKey = { keyId: keyId ?? derivedKeyId(key.publicKey), publicKey: key.publicKey, retired: false };
  writeNew(privateKeyPath, key.privateKeyPem, 0o600);
  writeNew(publicKeyPath, JSON.stringify(entry, null, 2) + "\n", 0o644);
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return { keyId: entry.keyId, publicKey: entry.publicKey, privateKeyPath, publicKeyPath };
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new HearthError("invalid_request", `--${field} ${path} cannot be read (${(err as Error).message})`, { field });
  }
}

/** A public key file as keygen writes it (a `license.vendorKeys` entry). */
export function readVendorPublicKey(path: string, field = "public-key"): VendorKey {
  let value: unknown;
  try {
    value = JSON.parse(readText(path, field));
  } catch (err) {
    if (err instanceof HearthError) throw err;
    throw new HearthError("invalid_request", `--${field} ${path} is not JSON (${(err as Error).message})`, { field });
  }
  try {
    return validate(VendorKeyConfig, value, "invalid_request");
  } catch (err) {
    throw new HearthError("invalid_request", `--${field} ${path}: ${(err as Error).message}`, { field });
  }
}

/**
 * The signer of a vendor private key file and its key id: `keyId` when given, else the one in
 * the companion public key file beside it, else derived from the public key.
 */
export function loadVendorSigningKey(path: string, keyId?: string): { signer: Signer; keyId: string } {
  let signer: Signer;
  try {
    signer = signerFromPem(readText(path, "key"));
  } catch (err) {
    if (err instanceof HearthError) throw err;
    throw new HearthError("invalid_request", `--key ${path} is not an Ed25519 private key in PEM (${(err as Error).message})`, { field: "key" });
  }
  if (keyId !== undefined) return { signer, keyId: checkKeyId(keyId) };
  const companion = join(dirname(path), VENDOR_PUBLIC_KEY_FILE);
  if (!existsSync(companion)) return { signer, keyId: derivedKeyId(signer.publicKey) };
  const entry = readVendorPublicKey(companion, "key");
  if (entry.publicKey !== signer.publicKey) {
    throw new HearthError("invalid_request", `${companion} belongs to another key than --key ${path}; pass --key-id`, { field: "key-id" });
  }
  return { signer, keyId: entry.keyId };
}
