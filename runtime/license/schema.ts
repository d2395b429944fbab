/**
 * The license document, format version 1:
 *
 *   { "formatVersion": 1, "payload": { ...LicensePayload }, "signature": { "keyId", "algorithm": "ed25519", "value" } }
 *
 * The signature covers the document without its `signature` member: `signature.value` is the
 * base64 Ed25519 signature of the UTF-8 bytes of canonicalJson({ formatVersion, payload }) (RFC
 * 8785, see crypto/canonical.ts and signing.ts). Signing the format version too means a document
 * cannot be relabelled as another format. A new scheme gets a new formatVersion; runtimes keep
 * reading the versions they know and refuse the others as `unsupported_format`.
 */
import { Type, type Static } from "@sinclair/typebox";

export const LICENSE_FORMAT_VERSION = 1;

/** Larger files are refused before they are parsed (a license is well under 2 KiB). */
export const MAX_LICENSE_BYTES = 64 * 1024;

/** UTC or offset timestamps as `Date#toISOString()` writes them; seconds required, milliseconds optional. */
const ISO_TIME = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$";
const isoTime = (description: string) => Type.String({ pattern: ISO_TIME, description });

/** The same rule as config's `license.vendorKeys[].keyId`. */
export const KeyId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$", description: "Vendor key id" });

export const FingerprintBinding = Type.Object(
  {
    fingerprints: Type.Array(Type.String({ pattern: "^hfp1:", maxLength: 256, description: "hfp1 fingerprint (identity/fingerprint-format.ts)" }), {
      minItems: 1,
      maxItems: 64,
    }),
  },
  { additionalProperties: false, description: "Bound to the devices with these fingerprints" },
);

export const SeatBinding = Type.Object(
  { seats: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
  { additionalProperties: false, description: "Not device-bound: a fleet license for N devices, counted by the usage audit" },
);

export const LicensePayload = Type.Object(
  {
    licenseId: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$" }),
    customer: Type.String({ maxLength: 200 }),
    tier: Type.Union([Type.Literal("community"), Type.Literal("smb")]),
    // Unknown names are kept (a newer runtime may understand them) and ignored by this one.
    entitlements: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-z0-9_]+$" }), { maxItems: 64, uniqueItems: true }),
    binding: Type.Union([FingerprintBinding, SeatBinding]),
    issuedAt: isoTime("When the vendor signed it"),
    notBefore: isoTime("Refused before this time"),
    expiresAt: isoTime("SMB features end graceDays after this time"),
    graceDays: Type.Integer({ minimum: 0, maximum: 365 }),
    updateChannel: Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,31}$", description: "Base-model update channel (with base_model_updates)" }),
    keyId: KeyId,
  },
  // Unknown fields are refused: a field an old runtime ignored could widen a license. New fields
  // come with a new formatVersion.
  { additionalProperties: false },
);

export const LicenseSignature = Type.Object(
  {
    keyId: KeyId,
    algorithm: Type.Literal("ed25519"),
    value: Type.String({ pattern: "^[A-Za-z0-9+/]{86}==$", description: "Base64 of the 64-byte signature" }),
  },
  { additionalProperties: false },
);

/** What is checked before the signature: the payload only as some object, since it is not trusted yet. */
export const LicenseEnvelope = Type.Object(
  { formatVersion: Type.Literal(LICENSE_FORMAT_VERSION), payload: Type.Object({}), signature: LicenseSignature },
  { additionalProperties: false },
);

export const LicenseDocument = Type.Object(
  { formatVersion: Type.Literal(LICENSE_FORMAT_VERSION), payload: LicensePayload, signature: LicenseSignature },
  { additionalProperties: false },
);

export type LicensePayload = Static<typeof LicensePayload>;
export type LicenseDocument = Static<typeof LicenseDocument>;
export type LicenseBinding = LicensePayload["binding"];
export type LicenseTier = LicensePayload["tier"];
