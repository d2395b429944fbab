/**
 * Shapes every admin route shares: the error body, path ids, `days` and `limit` queries. Each
 * exported schema has a `title`: the OpenAPI document lists it under components.schemas by it.
 */
import { Type, type Static } from "@sinclair/typebox";

export const AdminError = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: "Stable error code (runtime/errors.ts), e.g. unauthorized, csrf_failed, invalid_request" }),
        message: Type.String({ description: "What went wrong, in words, naming the field and the rule" }),
        field: Type.Union([Type.String(), Type.Null()], { description: "The request field at fault (dotted path), or null" }),
      },
      { additionalProperties: false },
    ),
  },
  { title: "AdminError", additionalProperties: false },
);
export type AdminError = Static<typeof AdminError>;

export const Ok = Type.Object({ ok: Type.Literal(true) }, { title: "Ok", additionalProperties: false });

export const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$", description: "The record's id" }) },
  { title: "IdParams", additionalProperties: false },
);

export const DaysQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 30, description: "Days to cover, ending today (UTC); default 30" })) },
  { title: "DaysQuery", additionalProperties: false },
);

export const LimitQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200, description: "Most records returned, newest last; default 200" })) },
  { title: "LimitQuery", additionalProperties: false },
);

/** A request with no body and no query (logout, restart, update check). */
export const Empty = Type.Object({}, { title: "Empty", additionalProperties: false });

/** ISO 8601 UTC time as Date#toISOString writes it. */
export const IsoTime = (description: string) => Type.String({ description: `${description} (ISO 8601, UTC)` });
export const NullableIsoTime = (description: string) => Type.Union([IsoTime(description), Type.Null()], { description });
