/**
 * What the publisher reads from a repository before changing it: the root chain, walked and
 * verified exactly as a box walks it, and the current channel index, checked against the roots.
 * A repository someone tampered with is refused here rather than re-signed.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Static, TSchema } from "@sinclair/typebox";
import { HearthError } from "../../runtime/errors.ts";
import type { Refusal } from "../reasons.ts";
import { INDEX_DOCUMENT, type ChannelIndex } from "../schema/channel-index.ts";
import type { RoleName, Root } from "../schema/root.ts";
import { openSigned, parseEnvelope, type DocumentSpec } from "../trust/envelope.ts";
import { loadTrustedRoot, nextRoot } from "../trust/root-chain.ts";
import { checkThreshold } from "../trust/threshold.ts";
import { INDEX_FILE, inRepo, rootFile } from "../layout.ts";

export interface RepoState {
  dir: string;
  /** Every root, version 1 first; the last is in force. */
  roots: Root[];
  root: Root;
  index: ChannelIndex | null;
}

const refused = (what: string, r: Refusal) => new HearthError("release_invalid", `${what}: ${r.message} [${r.code}]`, { field: r.field });

/** The verified root chain of a repository; release_invalid when root/1.root.json is missing or a link is bad. */
export function readRoots(dir: string): Root[] {
  const first = inRepo(dir, rootFile(1));
  if (!existsSync(first)) throw new HearthError("invalid_request", `${dir} has no ${rootFile(1)}: run \`hearth fleet root init\` first`, { field: "repo" });
  const loaded = loadTrustedRoot(readFileSync(first));
  if (!loaded.ok) throw refused(first, loaded);
  const roots = [loaded.value];
  for (let v = 2; existsSync(inRepo(dir, rootFile(v))); v++) {
    const next = nextRoot(roots.at(-1)!, readFileSync(inRepo(dir, rootFile(v))));
    if (!next.ok) throw refused(inRepo(dir, rootFile(v)), next);
    roots.push(next.value);
  }
  return roots;
}

/**
 * A signed document of the repository, accepted when a threshold of `role` signed it under any
 * root of the chain (newest first: a manifest signed before a key rotation is still the
 * publisher's own). Expiry is not checked: re-signing is how a stale document is refreshed.
 */
export function readSigned<S extends TSchema>(
  roots: readonly Root[],
  role: RoleName,
  bytes: Uint8Array,
  spec: DocumentSpec<S>,
): Static<S> {
  const envelope = parseEnvelope(bytes, spec.maxBytes, spec.what);
  if (!envelope.ok) throw refused(`the repository's ${spec.what}`, envelope);
  let refusal: Refusal | null = null;
  for (const root of [...roots].reverse()) {
    refusal = checkThreshold(root, role, envelope.value, spec.what);
    if (!refusal) break;
  }
  if (refusal) throw refused(`the repository's ${spec.what}`, refusal);
  const value = openSigned(envelope.value, spec);
  if (!value.ok) throw refused(`the repository's ${spec.what}`, value);
  return value.value;
}

export function readRepo(dir: string): RepoState {
  const roots = readRoots(dir);
  const indexPath = inRepo(dir, INDEX_FILE);
  const index = existsSync(indexPath)
    ? readSigned(roots, "index", readFileSync(indexPath), INDEX_DOCUMENT)
    : null;
  return { dir, roots, root: roots.at(-1)!, index };
}
