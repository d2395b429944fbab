/**
 * Keys named on the publisher's command line, in the files `hearth fleet keygen --out DIR` writes:
 * the directory itself, its `fleet-private.pem` (signs; the key id comes from the
 * `fleet-public.json` beside it) or its `fleet-public.json` (lists a key whose holder signs
 * elsewhere, e.g. a release key in a root document).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Signer } from "../../runtime/crypto/ed25519.ts";
import { HearthError } from "../../runtime/errors.ts";
import { FLEET_KEY_FILES, loadFleetSigningKey, readFleetPublicKey } from "../../runtime/fleet/commands/keyfile.ts";

export interface RepoKey {
  keyId: string;
  publicKey: string;
  /** Present when the private key was given. */
  signer?: Signer;
}

export interface SigningKey {
  keyId: string;
  signer: Signer;
}

/** One key argument: a keygen directory (private key when present), a PEM private key, or a public key JSON. */
export function readKeyArg(path: string, field: string): RepoKey {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    const priv = join(path, FLEET_KEY_FILES.privateFile);
    file = existsSync(priv) ? priv : join(path, FLEET_KEY_FILES.publicFile);
  }
  if (file.endsWith(".json")) return readFleetPublicKey(file, field);
  try {
    const { signer, keyId } = loadFleetSigningKey(file);
    return { keyId, publicKey: signer.publicKey, signer };
  } catch (err) {
    // The key file loader names --key; this key came from --FIELD.
    throw err instanceof HearthError ? new HearthError(err.code, err.message.replace(/^--key /, `--${field} `), { field }) : err;
  }
}

/** A comma-separated list of key arguments (repeated flags are joined by the caller). */
export function readKeyList(list: readonly string[], field: string): RepoKey[] {
  const paths = list.flatMap((l) => l.split(",")).map((p) => p.trim()).filter((p) => p !== "");
  if (paths.length === 0) throw new HearthError("invalid_request", `--${field} names no key`, { field });
  const keys = paths.map((p) => readKeyArg(p, field));
  const ids = new Set<string>();
  for (const k of keys) {
    if (ids.has(k.keyId)) throw new HearthError("invalid_request", `--${field} names key ${k.keyId} twice`, { field });
    ids.add(k.keyId);
  }
  return keys;
}

/** The keys that can sign; a key given without its private half is an error naming it. */
export function signingKeys(keys: readonly RepoKey[], field: string): SigningKey[] {
  return keys.map((k) => {
    if (!k.signer) throw new HearthError("invalid_request", `--${field}: key ${k.keyId} is a public key; signing needs its private key file`, { field });
    return { keyId: k.keyId, signer: k.signer };
  });
}
