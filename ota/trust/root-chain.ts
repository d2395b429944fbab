/**
 * Root rotation, TUF-style. A box starts from a provisioned root (or one signed by keys pinned in
 * its config) and moves forward one version at a time: root N+1 is trusted only when a threshold
 * of root N's root keys AND a threshold of its own root keys signed it, and its version is exactly
 * N+1. Release and index keys are thereby rotated or revoked without reflashing.
 *
 * An expired root still serves as a link of the chain (a box that was off for a year can walk
 * through it), but the newest trusted root must not be expired for fresh data (index, manifests)
 * to be accepted: checkRootFresh.
 */
import { accept, refuse, type Checked, type Refusal } from "../reasons.ts";
import { MAX_ROOT_BYTES, ROOT_DOCUMENT, type Root } from "../schema/root.ts";
import { openSigned, parseEnvelope, type SignedEnvelope } from "./envelope.ts";
import { checkThreshold } from "./threshold.ts";

/** A public key pinned in the box's config (the shape of `hearth fleet keygen`'s public file). */
export interface PinnedKey {
  keyId: string;
  publicKey: string;
}

function parseRoot(bytes: Uint8Array): Checked<{ envelope: SignedEnvelope; root: Root }> {
  const envelope = parseEnvelope(bytes, MAX_ROOT_BYTES, "root document");
  if (!envelope.ok) return envelope;
  const root = openSigned(envelope.value, ROOT_DOCUMENT);
  return root.ok ? accept({ envelope: envelope.value, root: root.value }) : root;
}

/** A root with its root role narrowed to the pinned public keys: only their signatures count. */
function narrowedToPinned(root: Root, pinned: readonly PinnedKey[]): Root {
  const pins = new Set(pinned.map((k) => k.publicKey));
  const keyIds = root.roles.root.keyIds.filter((id) => pins.has(root.keys[id]!.publicKey));
  return { ...root, roles: { ...root.roles, root: { ...root.roles.root, keyIds } } };
}

/**
 * The root stored on the box (provisioned, or saved after a rotation): well-formed and signed by a
 * threshold of its own root keys, so a corrupt or hand-edited file is refused. Not checked for
 * expiry: it is where the chain starts.
 */
export function loadTrustedRoot(bytes: Uint8Array): Checked<Root> {
  const parsed = parseRoot(bytes);
  if (!parsed.ok) return parsed;
  const unsigned = checkThreshold(parsed.value.root, "root", parsed.value.envelope, `root version ${parsed.value.root.version}`);
  return unsigned ?? accept(parsed.value.root);
}

/**
 * A first root for a box that only has pinned keys: trusted when a threshold of its root role is
 * met by signatures of pinned keys alone (typically root 1, from which the chain is walked).
 */
export function bootstrapRoot(bytes: Uint8Array, pinned: readonly PinnedKey[]): Checked<Root> {
  const parsed = parseRoot(bytes);
  if (!parsed.ok) return parsed;
  const { root, envelope } = parsed.value;
  const unsigned = checkThreshold(narrowedToPinned(root, pinned), "root", envelope, `root version ${root.version} (counting pinned keys only)`);
  return unsigned ?? accept(root);
}

/** The next root after `trusted`, or why it is refused (and `trusted` stays the trusted root). */
export function nextRoot(trusted: Root, bytes: Uint8Array): Checked<Root> {
  const envelope = parseEnvelope(bytes, MAX_ROOT_BYTES, "root document");
  if (!envelope.ok) return envelope;
  const expected = trusted.version + 1;
  const byOld = checkThreshold(trusted, "root", envelope.value, `root document offered as version ${expected}`);
  if (byOld) return { ...byOld, message: `${byOld.message} (the trusted root's keys must sign the next root)` };
  const root = openSigned(envelope.value, ROOT_DOCUMENT);
  if (!root.ok) return root;
  if (root.value.version !== expected) {
    return refuse("root_version", `the root document has version ${root.value.version}; after version ${trusted.version} only ${expected} is accepted (one step at a time)`, "version");
  }
  const bySelf = checkThreshold(root.value, "root", envelope.value, `root version ${expected}`);
  if (bySelf) return { ...bySelf, message: `${bySelf.message} (a new root must also be signed by its own root keys)` };
  return root;
}

/** Null while `root` may vouch for fresh data at `now` (ms); root_expired otherwise. */
export function checkRootFresh(root: Root, now: number): Refusal | null {
  if (Date.parse(root.expiresAt) > now) return null;
  return refuse("root_expired", `root version ${root.version} expired at ${root.expiresAt}; nothing new is trusted until the repository publishes a newer root`, "expiresAt");
}

/**
 * Whether a key of the index role was revoked between two roots. After such a rotation the box
 * forgets the index version it stored (TUF's fast-forward recovery): an index version inflated by
 * the revoked key must not lock the box out of the real, lower-numbered index. Keys that stay in
 * the role could sign any version anyway, so adding keys or changing the threshold keeps it.
 */
export function indexKeyRevoked(before: Root, after: Root): boolean {
  const kept = new Set(after.roles.index.keyIds.map((id) => after.keys[id]!.publicKey));
  return before.roles.index.keyIds.some((id) => !kept.has(before.keys[id]!.publicKey));
}
