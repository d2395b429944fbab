/**
 * The A/B slot store's pointer file (`<root>/current`): which slot serves, which one a rollback
 * returns to, whether a switch awaits its health check, what is being staged, and per slot the
 * release it holds. Replaced only whole (temp, fsync, rename, fsync dir), so it is never torn.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const SlotNameSchema = Type.Union([Type.Literal("a"), Type.Literal("b")]);
export type SlotName = Static<typeof SlotNameSchema>;

/** What a slot holds: one file of one release (a base model or a LoRA adapter). */
export const SlotReleaseSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal("base-model"), Type.Literal("lora")]),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    version: Type.String({ minLength: 1, maxLength: 100 }),
    /** A plain file name: no directory part, no leading dot (so never "." or ".."). */
    file: Type.String({ minLength: 1, maxLength: 255, pattern: "^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$" }),
    sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type SlotRelease = Static<typeof SlotReleaseSchema>;

export const SlotStateSchema = Type.Union([
  Type.Literal("staging"), // its files are being replaced: never active, never previous
  Type.Literal("staged"), // complete and verified, not yet served
  Type.Literal("committed"), // served and passed its health check
  Type.Literal("failed"), // switched to, then rolled back from
]);
export type SlotState = Static<typeof SlotStateSchema>;

export const SlotRecordSchema = Type.Object(
  {
    release: SlotReleaseSchema,
    state: SlotStateSchema,
    stagedAt: Nullable(Type.Integer()),
    committedAt: Nullable(Type.Integer()),
  },
  { additionalProperties: false },
);
export type SlotRecord = Static<typeof SlotRecordSchema>;

export const PointerSchema = Type.Object(
  {
    format: Type.Literal(1),
    /** +1 on every write. */
    generation: Type.Integer({ minimum: 0 }),
    active: Nullable(SlotNameSchema),
    previous: Nullable(SlotNameSchema),
    /** `active` was switched to and awaits commit (health check) or rollback. */
    pending: Type.Boolean(),
    staging: Nullable(Type.Object({ slot: SlotNameSchema, release: SlotReleaseSchema, startedAt: Type.Integer() }, { additionalProperties: false })),
    slots: Type.Object({ a: Nullable(SlotRecordSchema), b: Nullable(SlotRecordSchema) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type Pointer = Static<typeof PointerSchema>;

export const EMPTY_POINTER: Pointer = { format: 1, generation: 0, active: null, previous: null, pending: false, staging: null, slots: { a: null, b: null } };
