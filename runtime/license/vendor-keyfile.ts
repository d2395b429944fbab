/**
 * Signing key files, written by a keygen command on the signer's machine (never in the image): the
 * private key as PKCS#8 PEM (mode 0600) and, beside it, the public key as a config entry ready to
 * paste into a runtime's config. Vendor keys (`hearth license keygen`, `license.vendorKeys`) are
 * one kind; fleet keys (`hearth fleet keygen`, `telemetry.fleetKeys`) another, differing only in
 * file names, the derived id prefix and the shape of the public entry.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { VendorKeyConfig } from "../config/schema.ts";
import { generateEd25519, signerFromPem, type Signer } from "../crypto/ed25519.ts";
import { HearthError } from "../errors.ts";
import { validate } from "../validation.ts";
import { KeyId } from "./schema.ts";
import type { VendorKey } from "./vendor-keys.ts";

/** What differs between kinds of key files. `entrySchema` is the config entry's schema. */
export interface KeyFileKind<S extends TSchema> {
  privateFile: string;
  publicFile: string;
  /** Derived key ids are `<idPrefix>-` and 12 hex of the public key's SHA-256. */
  idPrefix: string;
  entrySchema: S;
  entry(keyId: string, publicKey: string): Static<S>;
}

export const VENDOR_PRIVATE_KEY_FILE = "vendor-private.pem";
export const VENDOR_PUBLIC_KEY_FILE = "vendor-public.json";

export const VENDOR_KEY_FILES: KeyFileKind<typeof VendorKeyConfig> = {
  privateFile: VENDOR_PRIVATE_KEY_FILE,
  publicFile: VENDOR_PUBLIC_KEY_FILE,
  idPrefix: "vendor",
  entrySchema: VendorKeyConfig,
  entry: (keyId, publicKey): VendorKey => ({ keyId, publicKey, retired: false }),
};

/** A key id from the public key, for keys generated without one: e.g. "vendor-" and 12 hex of its SHA-256. */
export function derivedKeyId(publicKey: string, prefix = VENDOR_KEY_FILES.idPrefix): string {
  return `${prefix}-${createHash("sha256").update(Buffer.from(publicKey, "base64")).digest("hex").slice(0, 12)}`;
}

/** The `--key-id` flag checked against the key id rule licenses, commands and config share. */
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

export interface KeyFiles {
  keyId: string;
  publicKey: string;
  privateKeyPath: string;
  publicKeyPath: string;
}
export type VendorKeyFiles = KeyFiles;

/** Generates a key pair of `kind` into `dir`; refuses when either file exists (a key is never overwritten). */
export function generateKeyFiles<S extends TSchema>(kind: KeyFileKind<S>, dir: string, keyId?: string): KeyFiles {
  if (keyId !== undefined) checkKeyId(keyId);
  const privateKeyPath = join(dir, kind.privateFile);
  const publicKeyPath = join(dir, kind.publicFile);
  for (const path of [privateKeyPath, publicKeyPath]) {
    if (existsSync(path)) throw new HearthError("invalid_request", `${path} already exists; keygen never overwrites a key (choose another --out)`, { field: "out" });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = generateEd25519();
  const id = keyId ?? derivedKeyId(key.publicKey, kind.idPrefix);
  writeNew(privateKeyPath, key.privateKeyPem, 0o600);
  writeNew(publicKeyPath, JSON.stringify(kind.entry(id, key.publicKey), null, 2) + "\n", 0o644);
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return { keyId: id, publicKey: key.publicKey, privateKeyPath, publicKeyPath };
}

export function generateVendorKeyPair(dir: string, keyId?: string): VendorKeyFiles {
  return generateKeyFiles(VENDOR_KEY_FILES, dir, keyId);
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new HearthError("invalid_request", `--${field} ${path} cannot be read (${(err as Error).message})`, { field });
  }
}

/** A public key file as keygen writes it (a config entry of `kind`). */
export function readPublicKeyFile<S extends TSchema>(kind: KeyFileKind<S>, path: string, field = "public-key"): Static<S> {
  let value: unknown;
  try {
    value = JSON.parse(readText(path, field));
  } catch (err) {
    if (err instanceof HearthError) throw err;
    throw new HearthError("invalid_request", `--${field} ${path} is not JSON (${(err as Error).message})`, { field });
  }
  try {
    return validate(kind.entrySchema, value, "invalid_request");
  } catch (err) {
    throw new HearthError("invalid_request", `--${field} ${path}: ${(err as Error).message}`, { field });
  }
}

/** A public key file as `license keygen` writes it (a `license.vendorKeys` entry). */
export function readVendorPublicKey(path: string, field = "public-key"): VendorKey {
  return readPublicKeyFile(VENDOR_KEY_FILES, path, field);
}

/**
 * The signer of a private key file of `kind` and its key id: `keyId` when given, else the one in
 * the companion public key file beside it, else derived from the public key.
 */
export function loadSigningKeyFile<S extends TSchema>(kind: KeyFileKind<S>, path: string, keyId?: string): { signer: Signer; keyId: string } {
  let signer: Signer;
  try {
    signer = signerFromPem(readText(path, "key"));
  } catch (err) {
    if (err instanceof HearthError) throw err;
    throw new HearthError("invalid_request", `--key ${path} is not an Ed25519 private key in PEM (${(err as Error).message})`, { field: "key" });
  }
  if (keyId !== undefined) return { signer, keyId: checkKeyId(keyId) };
  const companion = join(dirname(path), kind.publicFile);
  if (!existsSync(companion)) return { signer, keyId: derivedKeyId(signer.publicKey, kind.idPrefix) };
  const entry = readPublicKeyFile(kind, companion, "key") as { keyId: string; publicKey: string };
  if (entry.publicKey !== signer.publicKey) {
    throw new HearthError("invalid_request", `${companion} belongs to another key than --key ${path}; pass --key-id`, { field: "key-id" });
  }
  return { signer, keyId: entry.keyId };
}

export function loadVendorSigningKey(path: string, keyId?: string): { signer: Signer; keyId: string } {
  return loadSigningKeyFile(VENDOR_KEY_FILES, path, keyId);
}
