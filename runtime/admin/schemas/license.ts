/** License status (runtime/license/state.ts licenseStateJson) and upload. */
import { Type, type Static } from "@sinclair/typebox";
import { LicenseSignature, LICENSE_FORMAT_VERSION } from "../../license/schema.ts";

const Str = Type.String();

export const LicenseStatus = Type.Object(
  {
    deviceId: Type.String({ description: "This box's device id (from its identity key)" }),
    fingerprint: Type.Union([Type.String(), Type.Null()], { description: "hfp1 hardware fingerprint a reseller needs to issue a license; null until read" }),
    tier: Type.Union([Type.Literal("community"), Type.Literal("smb")], { description: "The tier the installed license puts in force" }),
    reason: Type.String({ description: "Verdict on the installed license: valid, absent, expired, … (license/reasons.ts)" }),
    message: Type.String(),
    entitlements: Type.Array(Str),
    updateChannel: Type.String(),
    license: Type.Union([
      Type.Object(
        {
          licenseId: Str,
          customer: Str,
          tier: Str,
          entitlements: Type.Array(Str),
          binding: Type.Union([
            Type.Object({ fingerprints: Type.Integer() }, { additionalProperties: false }),
            Type.Object({ seats: Type.Integer() }, { additionalProperties: false }),
          ]),
          issuedAt: Str,
          notBefore: Str,
          expiresAt: Str,
          graceDays: Type.Integer(),
          graceEndsAt: Str,
          updateChannel: Str,
          keyId: Str,
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    warnings: Type.Array(Str),
    clock: Type.Object(
      {
        trustedNow: Str,
        wallNow: Str,
        rolledBack: Type.Boolean(),
        incidents: Type.Integer(),
        lastRollback: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    inForceTier: Type.Union([Type.String(), Type.Null()], { description: "The tier this running server started with (null while loading)" }),
    restartRequired: Type.Boolean({ description: "The installed license differs from the one in force: it applies at the next restart" }),
  },
  { title: "LicenseStatus", additionalProperties: false },
);
export type LicenseStatus = Static<typeof LicenseStatus>;

/**
 * The license file's JSON as the vendor issued it. The envelope is checked here; the payload is
 * checked with the signature (license/verify.ts), before anything is written.
 */
export const LicenseUpload = Type.Object(
  {
    formatVersion: Type.Literal(LICENSE_FORMAT_VERSION),
    payload: Type.Object({}, { additionalProperties: true, description: "The signed license payload (see README: Tiers and licenses)" }),
    signature: LicenseSignature,
  },
  { title: "LicenseUpload", additionalProperties: false },
);
