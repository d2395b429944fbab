/** API keys for inference (create, list, revoke) and their usage from the ledger. */
import { Type, type Static } from "@sinclair/typebox";
import { IsoTime, NullableIsoTime } from "./common.ts";

const Counts = {
  requests: Type.Integer({ minimum: 0 }),
  promptTokens: Type.Integer({ minimum: 0 }),
  completionTokens: Type.Integer({ minimum: 0 }),
};

export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: "The key's first characters, to recognise it (the key itself is never shown again)" }),
    createdAt: IsoTime("Created"),
    revokedAt: NullableIsoTime("Revoked; null while active"),
    ...Counts,
  },
  { title: "ApiKey", additionalProperties: false },
);
export type ApiKey = Static<typeof ApiKey>;

export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKey) }, { title: "ApiKeyList", additionalProperties: false });

export const CreateKeyRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, pattern: "\\S", description: "What the key is for, e.g. the app's name" }) },
  { title: "CreateKeyRequest", additionalProperties: false },
);
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

export const CreatedKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    key: Type.String({ description: "The secret: shown only in this response; send it as Authorization: Bearer <key> to /v1" }),
    createdAt: IsoTime("Created"),
  },
  { title: "CreatedKey", additionalProperties: false },
);

export const UsageDay = Type.Object(
  { date: Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "UTC day" }), ...Counts },
  { title: "UsageDay", additionalProperties: false },
);
export type UsageDay = Static<typeof UsageDay>;

export const KeyUsageResponse = Type.Object(
  {
    keyId: Type.String(),
    name: Type.String(),
    from: Type.String({ description: "First UTC day covered (YYYY-MM-DD)" }),
    to: Type.String({ description: "Last UTC day covered (today)" }),
    perDay: Type.Array(UsageDay, { description: "One entry per day, oldest first, zeros included" }),
  },
  { title: "KeyUsageResponse", additionalProperties: false },
);

export const UsageResponse = Type.Object(
  {
    from: Type.String({ description: "First UTC day covered (YYYY-MM-DD)" }),
    to: Type.String({ description: "Last UTC day covered (today)" }),
    totals: Type.Object(Counts, { additionalProperties: false }),
    perDay: Type.Array(UsageDay, { description: "Every key together, one entry per day, oldest first, zeros included: the dashboard's chart" }),
    perKey: Type.Array(
      Type.Object(
        {
          keyId: Type.Union([Type.String(), Type.Null()], { description: "null: requests served without a key (auth.openInference)" }),
          name: Type.Union([Type.String(), Type.Null()]),
          ...Counts,
          perDay: Type.Array(UsageDay, { description: "Only days with requests" }),
        },
        { additionalProperties: false },
      ),
      { description: "Keys with requests in the period, most tokens first" },
    ),
  },
  { title: "UsageResponse", additionalProperties: false },
);
export type UsageResponse = Static<typeof UsageResponse>;
