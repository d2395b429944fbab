/**
 * The device's own Ed25519 identity, created on first start (never baked into an image, never
 * derived from /etc/machine-id, which cloned images share). The private key stays in the data dir
 * with mode 0600; the device id is derived from the public key, so it cannot be claimed by a box
 * that does not hold the key.
 */
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { generateEd25519, signerFromPem, type Signer } from "../crypto/ed25519.ts";
import { hasErrno, HearthError } from "../errors.ts";

export const DEVICE_KEY_FILE = "identity/device-ed25519.pem";

export interface DeviceIdentity extends Signer {
  /** "hd-" and 26 base32 characters of the public key's SHA-256. */
  readonly deviceId: string;
  /** True when this call created the key (first start). */
  readonly created: boolean;
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Derives the device id from a base64 raw public key. */
export function deviceIdOf(publicKey: string): string {
  const digest = createHash("sha256").update(Buffer.from(publicKey, "base64")).digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `hd-${out}`;
}

/** Writes `content` to `path` only if it does not exist yet: temp file, fsync, hard link (atomic, no clobber). */
function createExclusive(path: string, content: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    const dirFd = openSync(dirname(path), "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return true;
  } catch (err) {
    if (hasErrno(err, "EEXIST")) return false; // another process won the race: use its key
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Loads the device identity from `dataDir`, creating it on first start. */
export function loadOrCreateDeviceIdentity(dataDir: string): DeviceIdentity {
  const path = join(dataDir, DEVICE_KEY_FILE);
  let created = false;
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    if (!hasErrno(err, "ENOENT")) throw err;
    created = createExclusive(path, generateEd25519().privateKeyPem);
    pem = readFileSync(path, "utf8");
  }
  chmodSync(path, 0o600);
  let signer: Signer;
  try {
    signer = signerFromPem(pem);
  } catch (err) {
    throw new HearthError("identity_invalid", `${path}: the device key is unreadable (${(err as Error).message}); restore it from a backup`, { cause: err });
  }
  return { ...signer, deviceId: deviceIdOf(signer.publicKey), created };
}
