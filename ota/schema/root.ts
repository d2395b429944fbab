/**
 * The root document: which keys the box trusts for which role, and how many of them must sign.
 *
 *   root     signs root documents (the next version must be signed by a threshold of this one's
 *            root keys and of its own, so keys rotate without reflashing a box)
 *   release  signs release manifests
 *   index    signs the channel index (may be a lower-value key kept online, as TUF's timestamp)
 *
 * Stored as `root/<version>.root.json` in the repository, signed as an envelope (envelope.ts).
 */
import { Type, type Static } from "@sinclair/typebox";
import { KeyId, numberedDocument, PublicKey } from "./common.ts";

export const ROOT_TYPE = "hearth-ota-root";
export const ROLES = ["root", "release", "index"] as const;
export type RoleName = (typeof ROLES)[number];

/** Root documents are small; larger bytes are refused unread. */
export const MAX_ROOT_BYTES = 256 * 1024;

export const RoleSchema = Type.Object(
  {
    keyIds: Type.Array(KeyId, { minItems: 1, maxItems: 16, uniqueItems: true }),
    threshold: Type.Integer({ minimum: 1, maximum: 16, description: "Distinct keys of this role that must sign" }),
  },
  { additionalProperties: false },
);

export const RootKeySchema = Type.Object({ type: Type.Literal("ed25519"), publicKey: PublicKey }, { additionalProperties: false });

export const RootSchema = Type.Object(
  {
    ...numberedDocument(ROOT_TYPE, "1 for the first root; each rotation adds exactly one", "After this a box still walks through it but trusts no fresh data under it"),
    keys: Type.Record(KeyId, RootKeySchema, { maxProperties: 64, additionalProperties: false }),
    roles: Type.Object({ root: RoleSchema, release: RoleSchema, index: RoleSchema }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type Root = Static<typeof RootSchema>;
export type Role = Static<typeof RoleSchema>;

/**
 * What the schema cannot say: every role's keys are listed in `keys`, a threshold can be met, and
 * no public key is listed twice (two ids for one key would let one key count twice). Returns the
 * problem, or null.
 */
export function rootProblem(root: Root): { field: string; text: string } | null {
  const seen = new Map<string, string>();
  for (const [id, key] of Object.entries(root.keys)) {
    const other = seen.get(key.publicKey);
    if (other) return { field: `keys.${id}`, text: `keys.${id} is the same public key as keys.${other}` };
    seen.set(key.publicKey, id);
  }
  for (const name of ROLES) {
    const role = root.roles[name];
    const missing = role.keyIds.find((id) => !(id in root.keys));
    if (missing) return { field: `roles.${name}.keyIds`, text: `roles.${name} names key ${missing}, which is not in keys` };
    if (role.threshold > role.keyIds.length) {
      return { field: `roles.${name}.threshold`, text: `roles.${name}.threshold ${role.threshold} is more than its ${role.keyIds.length} keys` };
    }
  }
  return null;
}

/** How a root is read as a signed document (trust/envelope.ts openSigned). */
export const ROOT_DOCUMENT = { schema: RootSchema, type: ROOT_TYPE, what: "root document", maxBytes: MAX_ROOT_BYTES, problem: rootProblem };
