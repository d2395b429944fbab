import { Type, type Static } from "@sinclair/typebox";
import { FINGERPRINT_KINDS } from "./fingerprint-format.ts";

/**
 * What `collectFingerprint` returns and `hearth license fingerprint --json` prints. Only digests of
 * hardware ids appear here, never the ids.
 */
export const FingerprintKindSchema = Type.Union(FINGERPRINT_KINDS.map((k) => Type.Literal(k)), { description: "Which hardware id a component digests" });

export const FingerprintSchema = Type.Object({
  version: Type.Literal(1),
  components: Type.Array(Type.Object({ kind: FingerprintKindSchema, digest: Type.String({ pattern: "^[0-9a-f]{16}$" }) }), { maxItems: FINGERPRINT_KINDS.length }),
});

export const FingerprintSourceSchema = Type.Object({
  kind: FingerprintKindSchema,
  present: Type.Boolean({ description: "Whether a real id was found, so the fingerprint has this component" }),
  source: Type.String({ description: "The file or library call that gave the id; when none did, the places looked at" }),
  note: Type.Optional(Type.String({ description: "Why candidates were passed over, why nothing was found, whether a second source agrees" })),
});
export type FingerprintSource = Static<typeof FingerprintSourceSchema>;

export const FingerprintCollectionSchema = Type.Object({
  fingerprint: FingerprintSchema,
  /** One per kind, in FINGERPRINT_KINDS order, present or not. */
  sources: Type.Array(FingerprintSourceSchema),
});

/** `hearth license fingerprint --json`. */
export const DeviceFingerprintReportSchema = Type.Object({
  deviceId: Type.String({ pattern: "^hd-[a-z2-7]{26}$" }),
  devicePublicKey: Type.String({ description: "Base64 of the raw Ed25519 public key: verifies what the device signs (audit reports)" }),
  identityCreated: Type.Boolean({ description: "This run created the device identity (first use of the data dir)" }),
  fingerprint: Type.Union([Type.String({ pattern: "^hfp1:" }), Type.Null()], { description: "What a license is bound to; null when no hardware id was readable (no license can bind)" }),
  components: Type.Array(Type.Composite([FingerprintSourceSchema, Type.Object({ digest: Type.Union([Type.String({ pattern: "^[0-9a-f]{16}$" }), Type.Null()]) })])),
});
export type DeviceFingerprintReport = Static<typeof DeviceFingerprintReportSchema>;
