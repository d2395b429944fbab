/** The bytes a license signature covers, and signing them (the vendor side). */
import { canonicalBytes } from "../crypto/canonical.ts";
import type { Signer } from "../crypto/ed25519.ts";
import { LICENSE_FORMAT_VERSION, type LicenseDocument, type LicensePayload } from "./schema.ts";

/** UTF-8 of canonicalJson({ formatVersion, payload }): the document without its signature. */
export function signedBytes(formatVersion: number, payload: unknown): Uint8Array {
  return canonicalBytes({ formatVersion, payload });
}

/** A signed document; `payload.keyId` names the key, and the signature repeats it. */
export function signLicense(payload: LicensePayload, signer: Signer): LicenseDocument {
  const value = signer.sign(signedBytes(LICENSE_FORMAT_VERSION, payload));
  return { formatVersion: LICENSE_FORMAT_VERSION, payload, signature: { keyId: payload.keyId, algorithm: "ed25519", value } };
}

/** The file as written by `hearth license issue`: pretty JSON (spacing is not signed) and a newline. */
export function licenseFileText(doc: LicenseDocument): string {
  return JSON.stringify(doc, null, 2) + "\n";
}
