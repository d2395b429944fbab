/**
 * Signed envelopes, `{ "signed": {...}, "signatures": [{ "keyId", "sig" }] }`: each `sig` is
 * Ed25519 over the RFC 8785 canonical JSON of `signed` (crypto/canonical.ts), so spacing and key
 * order are not signed and any changed value is. Reading is total (a verdict, never a throw) and
 * ordered: size, JSON, envelope shape, the role's signatures, and only then the content's type,
 * format and schema.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { canonicalBytes } from "../../runtime/crypto/canonical.ts";
import type { Signer } from "../../runtime/crypto/ed25519.ts";
import { isHearthError } from "../../runtime/errors.ts";
import { validate } from "../../runtime/validation.ts";
import { accept, refuse, type Checked } from "../reasons.ts";
import { Envelope, OTA_SPEC_VERSION } from "../schema/common.ts";

export type SignatureEntry = Static<typeof Envelope>["signatures"][number];
export interface SignedEnvelope<T = Record<string, unknown>> {
  signed: T;
  signatures: SignatureEntry[];
}

/** The bytes every signature covers. */
export const signedBytes = (signed: unknown): Uint8Array => canonicalBytes(signed);

/** Signs `signed` with each key (the publisher side); one signature per distinct key id. */
export function signEnvelope<T>(signed: T, keys: readonly { keyId: string; signer: Signer }[]): SignedEnvelope<T> {
  const bytes = signedBytes(signed);
  const seen = new Set<string>();
  const signatures = keys.filter((k) => !seen.has(k.keyId) && seen.add(k.keyId)).map((k) => ({ keyId: k.keyId, sig: k.signer.sign(bytes) }));
  return { signed, signatures };
}

/** How an envelope is written to the repository: pretty JSON (spacing is not signed) and a newline. */
export const envelopeText = (envelope: SignedEnvelope<unknown>): string => JSON.stringify(envelope, null, 2) + "\n";

/** A kind of signed document: its schema, `type` tag, name in messages, size bound and extra rules. */
export interface DocumentSpec<S extends TSchema> {
  schema: S;
  type: string;
  what: string;
  maxBytes: number;
  problem?: (value: Static<S>) => { field: string; text: string } | null;
}

/** Bytes → an envelope whose content is not trusted yet. `what` names the document in messages. */
export function parseEnvelope(bytes: Uint8Array, maxBytes: number, what: string): Checked<SignedEnvelope> {
  if (bytes.byteLength > maxBytes) return refuse("oversized", `the ${what} is ${bytes.byteLength} bytes; at most ${maxBytes} are read`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    return refuse("malformed", `the ${what} is not JSON (${(err as Error).message})`);
  }
  try {
    return accept(validate(Envelope, doc) as SignedEnvelope);
  } catch (err) {
    if (!isHearthError(err)) throw err;
    return refuse("malformed", `the ${what} is not a signed envelope: ${err.message}`, err.field);
  }
}

/**
 * The signed content as a `T`, once its signatures were accepted: the type first (a signed
 * document of another kind is named as such), then the format version, the schema and the rules
 * the schema cannot express (`problem`).
 */
export function openSigned<S extends TSchema>(envelope: SignedEnvelope, spec: DocumentSpec<S>): Checked<Static<S>> {
  const { signed } = envelope;
  if (signed.type !== spec.type) return refuse("wrong_type", `expected a ${spec.what} (type ${spec.type}), got a document of type ${JSON.stringify(signed.type ?? null)}`, "type");
  if (signed.specVersion !== OTA_SPEC_VERSION) {
    return refuse("unsupported_format", `${spec.what} format version ${JSON.stringify(signed.specVersion ?? null)} is not supported (this runtime reads ${OTA_SPEC_VERSION})`, "specVersion");
  }
  let value: Static<S>;
  try {
    value = validate(spec.schema, signed);
  } catch (err) {
    if (!isHearthError(err)) throw err;
    return refuse("malformed", `the ${spec.what} is malformed: ${err.message}`, err.field);
  }
  const problem = spec.problem?.(value);
  return problem ? refuse("malformed", `the ${spec.what} is malformed: ${problem.text}`, problem.field) : accept(value);
}
