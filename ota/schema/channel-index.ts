/**
 * The channel index, `index.json` at the top of the repository: per channel, the current release
 * of each name (at most one base model, any number of LoRA adapters), pinned by the manifest's
 * path, length and SHA-256. Its version only increases, so a box never goes back to an older
 * index (rollback) and never mixes a manifest with an index that did not name it. Signed by the
 * root's `index` role.
 */
import { Type, type Static } from "@sinclair/typebox";
import { ChannelName, numberedDocument, ReleaseName, RepoPath, Semver, Sha256Hex } from "./common.ts";
import { MAX_MANIFEST_BYTES, ReleaseKindSchema } from "./manifest.ts";

export const INDEX_TYPE = "hearth-ota-index";
export const MAX_INDEX_BYTES = 1024 * 1024;

export const IndexEntrySchema = Type.Object(
  {
    name: ReleaseName,
    kind: ReleaseKindSchema,
    version: Semver("The release's version"),
    manifest: RepoPath,
    sha256: Sha256Hex,
    length: Type.Integer({ minimum: 1, maximum: MAX_MANIFEST_BYTES, description: "Bytes of the manifest file" }),
  },
  { additionalProperties: false },
);

export const ChannelSchema = Type.Object({ releases: Type.Array(IndexEntrySchema, { maxItems: 256 }) }, { additionalProperties: false });

export const IndexSchema = Type.Object(
  {
    ...numberedDocument(INDEX_TYPE, "Increases with every index the publisher signs", "Stale after this: a box refuses it (freeze protection)"),
    channels: Type.Record(ChannelName, ChannelSchema, { maxProperties: 64, additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type ChannelIndex = Static<typeof IndexSchema>;
export type IndexEntry = Static<typeof IndexEntrySchema>;

/** What the schema cannot say: release names are unique in a channel and it has one base model at most. */
export function indexProblem(index: ChannelIndex): { field: string; text: string } | null {
  for (const [channel, { releases }] of Object.entries(index.channels)) {
    const names = new Set<string>();
    let bases = 0;
    for (const [i, r] of releases.entries()) {
      const field = `channels.${channel}.releases[${i}]`;
      if (names.has(r.name)) return { field, text: `${field}: release ${r.name} is listed twice` };
      names.add(r.name);
      if (r.kind === "base-model" && ++bases > 1) return { field, text: `${field}: channel ${channel} lists more than one base model` };
    }
  }
  return null;
}

/** How the index is read as a signed document (trust/envelope.ts openSigned). */
export const INDEX_DOCUMENT = { schema: IndexSchema, type: INDEX_TYPE, what: "channel index", maxBytes: MAX_INDEX_BYTES, problem: indexProblem };
