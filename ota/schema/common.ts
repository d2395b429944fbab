/**
 * Building blocks shared by every OTA document (root, channel index, release manifest). Names and
 * paths are restricted to characters that cannot climb out of a directory or a URL path: a
 * segment starts with a letter or digit, so "..", "." and "/x" never match.
 */
import { Type } from "@sinclair/typebox";
import { KeyId } from "../../runtime/license/schema.ts";

/** The version of this document format; a runtime refuses formats it does not know. */
export const OTA_SPEC_VERSION = 1;

export { KeyId };

const ISO_TIME = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$";
export const IsoTime = (description: string) => Type.String({ pattern: ISO_TIME, description });

/** The head of a numbered document (root, index): its type tag, format, version and validity. */
export const numberedDocument = <T extends string>(type: T, versionDescription: string, expiresDescription: string) => ({
  type: Type.Literal(type),
  specVersion: Type.Literal(OTA_SPEC_VERSION),
  version: Type.Integer({ minimum: 1, description: versionDescription }),
  issuedAt: IsoTime("When it was signed"),
  expiresAt: IsoTime(expiresDescription),
});

export const PublicKey = Type.String({ pattern: "^[A-Za-z0-9+/]{43}=$", description: "Base64 of the raw 32-byte Ed25519 public key" });
export const Sha256Hex = Type.String({ pattern: "^[0-9a-f]{64}$", description: "SHA-256, lower-case hex" });

/** Semantic Versioning 2.0.0, the official expression. */
export const SEMVER_PATTERN =
  "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$";
export const Semver = (description: string) => Type.String({ pattern: SEMVER_PATTERN, maxLength: 64, description });

export const ReleaseName = Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,63}$", description: "Release name, e.g. llama-3b-instruct" });
/** The same rule as a license's updateChannel. */
export const ChannelName = Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,31}$", description: "Update channel, e.g. stable" });
/** The same rule as telemetry.groups. */
export const GroupName = Type.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", description: "Device group" });
export const FileName = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$", description: "A file name without directories" });

const SEGMENT = "[A-Za-z0-9][A-Za-z0-9._+-]{0,127}";
const REPO_PATH = `(?:${SEGMENT}/){0,7}${SEGMENT}`;
/** A path inside the repository, relative to its base URL. */
export const RepoPath = Type.String({ pattern: `^${REPO_PATH}$`, maxLength: 1024, description: "Path relative to the repository" });
/** Where a file can be fetched: an http(s) URL, or a path relative to the repository's URL. */
export const FileUrl = Type.String({
  pattern: `^(https?://[^\\s/?#]+(/[^\\s]*)?|${REPO_PATH})$`,
  maxLength: 2048,
  description: "http:// or https:// URL, or a path relative to the repository",
});

export const Signature = Type.Object(
  {
    keyId: KeyId,
    sig: Type.String({ pattern: "^[A-Za-z0-9+/]{86}==$", description: "Base64 Ed25519 signature over the canonical JSON of `signed`" }),
  },
  { additionalProperties: false },
);

/** At most this many signatures are looked at, so a padded envelope costs no more than this. */
export const MAX_SIGNATURES = 32;

/**
 * A signed document as read, before its content is trusted: `signed` is only some object until a
 * threshold of the right role's keys signed it; then it is checked against its own schema.
 */
export const Envelope = Type.Object(
  { signed: Type.Object({}), signatures: Type.Array(Signature, { maxItems: MAX_SIGNATURES }) },
  { additionalProperties: false },
);
