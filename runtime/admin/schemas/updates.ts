/**
 * OTA updates. Until the OTA issue plugs in an UpdateService (runtime/admin/updates.ts), every
 * updates route answers 501 not_implemented; these shapes are the contract it fills.
 */
import { Type, type Static } from "@sinclair/typebox";

export const UpdatesState = Type.Object(
  {
    state: Type.String({ description: "idle, checking, downloading, staged, applying, rolled-back, failed, …" }),
    current: Type.Union([Type.String(), Type.Null()], { description: "Installed release" }),
    available: Type.Union([Type.String(), Type.Null()], { description: "Newer release offered, if any" }),
    progress: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: "Download or apply progress, 0..1" }),
    message: Type.Union([Type.String(), Type.Null()]),
  },
  { title: "UpdatesState", additionalProperties: true },
);
export type UpdatesState = Static<typeof UpdatesState>;

export const ApplyUpdateRequest = Type.Object(
  { release: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Release to apply; default: the one available" })) },
  { title: "ApplyUpdateRequest", additionalProperties: false },
);
export type ApplyUpdateRequest = Static<typeof ApplyUpdateRequest>;
