/**
 * A release manifest: one base model or LoRA adapter at one version, the files it comes in (one
 * per quantization), who may install it and how far it is rolled out. Signed by the root's
 * `release` role; stored content-addressed as `manifests/<name>/<version>/<sha256>.json`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { ChannelName, FileName, FileUrl, GroupName, IsoTime, OTA_SPEC_VERSION, ReleaseName, Semver, Sha256Hex } from "./common.ts";

export const RELEASE_TYPE = "hearth-ota-release";
export const RELEASE_KINDS = ["base-model", "lora"] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

export const MAX_MANIFEST_BYTES = 256 * 1024;
/** 1 TiB: a bound on a declared size, far above any model a box can hold. */
export const MAX_FILE_BYTES = 2 ** 40;

export const ReleaseKindSchema = Type.Union([Type.Literal("base-model"), Type.Literal("lora")]);

export const ReleaseFileSchema = Type.Object(
  {
    name: FileName,
    quantization: Type.String({ pattern: "^[A-Za-z0-9_()-]{1,32}$", description: "llama.cpp's file type, e.g. Q4_0, Q4_K_M, F16" }),
    size: Type.Integer({ minimum: 1, maximum: MAX_FILE_BYTES, description: "Exact bytes; a download never accepts more" }),
    sha256: Sha256Hex,
    urls: Type.Array(FileUrl, { minItems: 1, maxItems: 8, description: "Mirrors, tried in order" }),
  },
  { additionalProperties: false },
);

export const BaseRequirementSchema = Type.Object(
  {
    name: ReleaseName,
    versions: Type.String({ minLength: 1, maxLength: 128, description: 'Semver range of the base model, e.g. "1.2.0", "^1.2.0", ">=1.2.0 <2.0.0", "*"' }),
    sha256: Type.Optional(Sha256Hex),
  },
  { additionalProperties: false, description: "The base model a LoRA adapter applies to" },
);

export const RolloutSchema = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100, description: "Share of devices, by a stable hash of the device id (resolution 0.01)" }),
    groups: Type.Array(GroupName, { maxItems: 64, uniqueItems: true, description: "Devices in these groups get it whatever the percentage" }),
  },
  { additionalProperties: false },
);

export const ManifestSchema = Type.Object(
  {
    type: Type.Literal(RELEASE_TYPE),
    specVersion: Type.Literal(OTA_SPEC_VERSION),
    kind: ReleaseKindSchema,
    name: ReleaseName,
    version: Semver("The release's version"),
    channel: ChannelName,
    files: Type.Array(ReleaseFileSchema, { minItems: 1, maxItems: 16 }),
    base: Type.Optional(BaseRequirementSchema),
    minRuntimeVersion: Semver("Oldest runtime that may install it"),
    entitlement: Type.Optional(Type.String({ pattern: "^[a-z0-9_]{1,64}$", description: "License entitlement required, e.g. lora_adapters" })),
    rollout: RolloutSchema,
    issuedAt: IsoTime("When it was signed"),
    expiresAt: IsoTime("Not installed after this (freeze protection)"),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;
export type ReleaseFile = Static<typeof ReleaseFileSchema>;
export type Rollout = Static<typeof RolloutSchema>;
export type BaseRequirement = Static<typeof BaseRequirementSchema>;

/** What the schema cannot say: a LoRA names its base and a base model has none, file names are unique. */
export function manifestProblem(m: Manifest): { field: string; text: string } | null {
  if (m.kind === "lora" && !m.base) return { field: "base", text: "base is required for a lora release" };
  if (m.kind === "base-model" && m.base) return { field: "base", text: "base is only for lora releases" };
  const names = new Set<string>();
  for (const [i, f] of m.files.entries()) {
    if (names.has(f.name)) return { field: `files[${i}].name`, text: `files[${i}].name ${f.name} is listed twice` };
    names.add(f.name);
  }
  return null;
}

/** How a manifest is read as a signed document (trust/envelope.ts openSigned). */
export const MANIFEST_DOCUMENT = { schema: ManifestSchema, type: RELEASE_TYPE, what: "release manifest", maxBytes: MAX_MANIFEST_BYTES, problem: manifestProblem };
