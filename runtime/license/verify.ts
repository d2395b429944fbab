/**
 * License verification: bytes in, a verdict with one stable reason out. Pure (the time and the
 * device fingerprint are passed in) and total: bad input of any kind is a verdict, never a throw.
 *
 * Order: size, JSON, format version, envelope, key, signature; only then is anything in the payload
 * trusted (its schema, binding and dates).
 */
import type { Fingerprint } from "../identity/fingerprint-format.ts";
import { verifyEd25519 } from "../crypto/ed25519.ts";
import { Type } from "@sinclair/typebox";
import { HearthError, isHearthError } from "../errors.ts";
import { validate } from "../validation.ts";
import { checkBinding, licensedFingerprints } from "./binding.ts";
import { isInForce, type LicenseReason } from "./reasons.ts";
import { FingerprintBinding, LICENSE_FORMAT_VERSION, LicenseDocument, LicenseEnvelope, MAX_LICENSE_BYTES, SeatBinding, type LicensePayload } from "./schema.ts";
import { signedBytes } from "./signing.ts";
import { licenseTimeState } from "./time-state.ts";
import { lookupVendorKey, type VendorKey } from "./vendor-keys.ts";

export interface VerifyContext {
  /** The trusted vendor keys (vendor-keys.ts trustedVendorKeys). */
  vendorKeys: readonly VendorKey[];
  /** The device's fingerprint; null skips the binding check (vendor-side verification). */
  device: Fingerprint | null;
  /** Effective now in ms: trusted time on a device (trusted-time.ts), never the raw wall clock. */
  now: number;
}

export interface LicenseVerdict {
  reason: LicenseReason;
  /** True for valid, expiring and grace: the license's tier and entitlements apply. */
  inForce: boolean;
  message: string;
  /** For malformed documents: the offending field, e.g. "payload.expiresAt". */
  field?: string;
  /** The payload, once its signature checked out and it is well-formed; null before that. */
  payload: LicensePayload | null;
  warnings: string[];
}

function refuse(reason: LicenseReason, message: string, extra: Partial<LicenseVerdict> = {}): LicenseVerdict {
  return { reason, inForce: false, message, payload: null, warnings: [], ...extra };
}

/** A schema problem as a malformed verdict naming the field. */
function schemaProblem<T>(check: () => T): T | LicenseVerdict {
  try {
    return check();
  } catch (err) {
    if (!isHearthError(err)) throw err;
    return refuse("malformed", `the license is malformed: ${err.message}`, { field: err.field });
  }
}

const isVerdict = (v: unknown): v is LicenseVerdict => typeof v === "object" && v !== null && "reason" in v && "inForce" in v;

function parse(bytes: Uint8Array): unknown | LicenseVerdict {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    return refuse("malformed", `the license is not JSON (${(err as Error).message})`);
  }
}

/** The verdict on a file of `size` bytes over MAX_LICENSE_BYTES, which is not even read. */
export const oversizedVerdict = (size: number): LicenseVerdict =>
  refuse("oversized", `the license file is ${size} bytes; at most ${MAX_LICENSE_BYTES} are accepted`);

export function verifyLicense(bytes: Uint8Array, ctx: VerifyContext): LicenseVerdict {
  if (bytes.byteLength > MAX_LICENSE_BYTES) return oversizedVerdict(bytes.byteLength);
  const doc = parse(bytes);
  if (isVerdict(doc)) return doc;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return refuse("malformed", "the license is not a JSON object");

  const version = (doc as { formatVersion?: unknown }).formatVersion;
  if (version === undefined) return refuse("malformed", "the license is malformed: formatVersion: missing is required", { field: "formatVersion" });
  if (version !== LICENSE_FORMAT_VERSION) {
    return refuse("unsupported_format", `license format version ${JSON.stringify(version)} is not supported (this runtime reads version ${LICENSE_FORMAT_VERSION})`);
  }

  const envelope = schemaProblem(() => validate(LicenseEnvelope, doc, "license_invalid"));
  if (isVerdict(envelope)) return envelope;
  const { keyId, value } = envelope.signature;

  const key = lookupVendorKey(ctx.vendorKeys, keyId);
  if (key.status === "unknown") return refuse("unknown_key", `the license is signed with key "${keyId}", which this runtime does not trust`);
  if (key.status === "retired") return refuse("retired_key", `the license is signed with key "${keyId}", which has been retired; ask for a reissued license`);

  let signed: Uint8Array;
  try {
    signed = signedBytes(envelope.formatVersion, envelope.payload);
  } catch (err) {
    return refuse("malformed", `the license payload cannot be encoded (${(err as Error).message})`, { field: "payload" });
  }
  if (!verifyEd25519(key.key.publicKey, signed, value)) {
    return refuse("bad_signature", `the license signature does not match its contents (key "${keyId}"): the file was altered or not issued by the vendor`);
  }

  // From here the payload is the vendor's; a problem now is a vendor-side mistake, still refused.
  const full = schemaProblem(() => validateDocument(doc));
  if (isVerdict(full)) return full;
  const payload = full.payload;
  const problem = payloadProblem(payload, keyId);
  if (problem) return problem;

  const binding = checkBinding(payload.binding, ctx.device);
  if (!binding.ok) return refuse("wrong_fingerprint", binding.message, { payload });

  const time = licenseTimeState(payload, ctx.now);
  return { reason: time.reason, inForce: isInForce(time.reason), message: time.message, payload, warnings: time.warnings };
}

/** The full schema, with the binding union's failure spelled out (TypeBox only says "union value"). */
function validateDocument(doc: unknown): LicenseDocument {
  try {
    return validate(LicenseDocument, doc, "license_invalid");
  } catch (err) {
    if (!isHearthError(err) || err.field !== "payload.binding") throw err;
    const binding = (doc as { payload: { binding: unknown } }).payload.binding;
    const has = (k: string) => typeof binding === "object" && binding !== null && k in binding;
    if (has("fingerprints") === has("seats")) {
      throw new HearthError("license_invalid", "payload.binding: must have either fingerprints (hfp1 fingerprints) or seats (a number of devices)", { field: "payload.binding" });
    }
    const branch = has("seats") ? SeatBinding : FingerprintBinding;
    validate(Type.Object({ payload: Type.Object({ binding: branch }) }), { payload: { binding } }, "license_invalid");
    throw err;
  }
}

/** What the schema cannot say: real dates in order, parseable fingerprints, matching key ids. */
function payloadProblem(payload: LicensePayload, signatureKeyId: string): LicenseVerdict | null {
  const malformed = (field: string, why: string) => refuse("malformed", `the license is malformed: ${field}: ${why}`, { field });
  if (payload.keyId !== signatureKeyId) return malformed("payload.keyId", `${JSON.stringify(payload.keyId)} differs from signature.keyId ${JSON.stringify(signatureKeyId)}`);
  for (const field of ["issuedAt", "notBefore", "expiresAt"] as const) {
    if (Number.isNaN(Date.parse(payload[field]))) return malformed(`payload.${field}`, `${JSON.stringify(payload[field])} is not a real date`);
  }
  if (Date.parse(payload.expiresAt) <= Date.parse(payload.notBefore)) return malformed("payload.expiresAt", "must be after payload.notBefore");
  const fingerprints = schemaProblem(() => licensedFingerprints(payload.binding));
  return isVerdict(fingerprints) ? fingerprints : null;
}
