/** Admin tokens: bearer credentials for automation, shown once, stored hashed, revocable. */
import { Type, type Static } from "@sinclair/typebox";
import { IsoTime, NullableIsoTime } from "./common.ts";

export const AdminToken = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: "The token's first characters, to recognise it" }),
    createdAt: IsoTime("Created"),
    lastUsedAt: NullableIsoTime("Last authenticated request"),
    revokedAt: NullableIsoTime("Revoked; null while active"),
  },
  { title: "AdminToken", additionalProperties: false },
);
export type AdminToken = Static<typeof AdminToken>;

export const AdminTokenList = Type.Object({ tokens: Type.Array(AdminToken) }, { title: "AdminTokenList", additionalProperties: false });

export const CreateTokenRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, pattern: "\\S", description: "What the token is for" }) },
  { title: "CreateTokenRequest", additionalProperties: false },
);
export type CreateTokenRequest = Static<typeof CreateTokenRequest>;

export const CreatedToken = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    token: Type.String({ description: "The secret: shown only in this response; send it as Authorization: Bearer <token> to /admin/api" }),
    createdAt: IsoTime("Created"),
  },
  { title: "CreatedToken", additionalProperties: false },
);
export type CreatedToken = Static<typeof CreatedToken>;
