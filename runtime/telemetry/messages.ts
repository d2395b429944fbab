/**
 * Every MQTT payload, as TypeBox schemas the box and the collector share: JSON, validated on both
 * ends, versioned by `v`. Each message has an `id` unique per device (the outbox's message id), so
 * the collector stores a redelivered message once. Nothing here can carry prompt or completion
 * text or an API key: usage is counts, health is machine figures.
 */
import { Type, type Static } from "@sinclair/typebox";
import { SignedCheckpointSchema } from "../ledger/checkpoints.ts";

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Iso = Type.String({ minLength: 20, maxLength: 40, description: "ISO 8601 time" });
const Count = Type.Integer({ minimum: 0 });

/** Fields every device message starts with. */
const Envelope = {
  v: Type.Literal(1),
  id: Id,
  device: Id,
  fleet: Id,
  ts: Iso,
};

export const TierSchema = Type.Union([Type.Literal("community"), Type.Literal("smb")]);

export const StateMessageSchema = Type.Object(
  {
    ...Envelope,
    state: Type.Union([Type.Literal("online"), Type.Literal("offline")]),
    version: Type.String({ maxLength: 64, description: "Runtime version" }),
    tier: TierSchema,
    /** SMB only: Community boxes send no customer identifiers. */
    licenseId: Type.Optional(Type.String({ maxLength: 128 })),
    models: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);

export const HealthMessageSchema = Type.Object(
  {
    ...Envelope,
    uptimeSeconds: Count,
    cpuLoadPercent: Type.Number({ minimum: 0 }),
    memory: Type.Object({ totalMB: Count, usedMB: Count }, { additionalProperties: false }),
    temperaturesC: Type.Array(Type.Object({ zone: Type.String({ maxLength: 64 }), celsius: Type.Number() }, { additionalProperties: false }), { maxItems: 32 }),
    disk: Type.Object({ totalMB: Count, usedMB: Count }, { additionalProperties: false }),
    throttled: Type.Boolean(),
  },
  { additionalProperties: false },
);

const UsageTotals = Type.Object({ requests: Count, promptTokens: Count, completionTokens: Count }, { additionalProperties: false });

export const UsageMessageSchema = Type.Object(
  {
    ...Envelope,
    /** Per device, +1 per usage message: the collector sees gaps and keeps order. */
    seq: Type.Integer({ minimum: 1 }),
    /** The ledger records covered: (fromLedgerSeq, toLedgerSeq]. */
    fromLedgerSeq: Count,
    toLedgerSeq: Count,
    totals: UsageTotals,
    byModel: Type.Record(Type.String({ maxLength: 128 }), UsageTotals),
    tier: TierSchema,
    licenseId: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const AuditMessageSchema = Type.Object(
  {
    ...Envelope,
    checkpoint: SignedCheckpointSchema,
    licenseId: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const OtaMessageSchema = Type.Object(
  { ...Envelope, event: Type.String({ maxLength: 64 }), detail: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

/** A fleet command: signed by a fleet key over the canonical JSON of everything but `signature`. */
export const CommandSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Id,
    kind: Type.String({ minLength: 1, maxLength: 64, description: "config.set, telemetry.flush, license.install, …" }),
    target: Type.Union([
      Type.Object({ device: Id }, { additionalProperties: false }),
      Type.Object({ group: Id }, { additionalProperties: false }),
    ]),
    fleet: Id,
    args: Type.Record(Type.String(), Type.Unknown()),
    issuedAt: Iso,
    expiresAt: Iso,
    nonce: Type.String({ minLength: 16, maxLength: 64 }),
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    signature: Type.String({ description: "Ed25519, base64" }),
  },
  { additionalProperties: false },
);

export const CommandAckSchema = Type.Object(
  {
    ...Envelope,
    /** The command's id, or null when the payload was too broken to have one. */
    commandId: Type.Union([Id, Type.Null()]),
    outcome: Type.Union([Type.Literal("done"), Type.Literal("rejected"), Type.Literal("failed")]),
    /** A stable code: bad_signature, unknown_key, expired, replayed, misaddressed, malformed, not_allowed, … */
    code: Type.Optional(Type.String({ maxLength: 64 })),
    reason: Type.Optional(Type.String({ maxLength: 1024 })),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

/** Most message ids one receipt names; a larger batch goes out as several receipts. */
export const MAX_RECEIPT_IDS = 500;

/**
 * From the collector to a box, on the box's /receipt topic: the usage and audit messages it has
 * stored (newly or before, for a redelivery). Only then does the box drop them from its outbox: a
 * PUBACK says the broker took a message, a receipt says the collector's store has it.
 */
export const ReceiptMessageSchema = Type.Object(
  {
    v: Type.Literal(1),
    device: Id,
    fleet: Id,
    ts: Iso,
    ids: Type.Array(Id, { minItems: 1, maxItems: MAX_RECEIPT_IDS, description: "Message ids stored" }),
  },
  { additionalProperties: false },
);

export type StateMessage = Static<typeof StateMessageSchema>;
export type HealthMessage = Static<typeof HealthMessageSchema>;
export type UsageMessage = Static<typeof UsageMessageSchema>;
export type AuditMessage = Static<typeof AuditMessageSchema>;
export type OtaMessage = Static<typeof OtaMessageSchema>;
export type Command = Static<typeof CommandSchema>;
export type CommandAck = Static<typeof CommandAckSchema>;
export type ReceiptMessage = Static<typeof ReceiptMessageSchema>;

/** The schema of each device channel's payload. */
export const CHANNEL_SCHEMAS = {
  state: StateMessageSchema,
  health: HealthMessageSchema,
  usage: UsageMessageSchema,
  audit: AuditMessageSchema,
  ota: OtaMessageSchema,
  cmd: CommandSchema,
  "cmd/ack": CommandAckSchema,
  receipt: ReceiptMessageSchema,
} as const;

/**
 * The box's side of fleet commands, as the telemetry client sees it: it hands over every payload
 * that arrives on a command topic and publishes the ack it gets back (never throws).
 */
export interface CommandProcessor {
  handle(payload: Uint8Array): Promise<Omit<CommandAck, "v" | "id" | "device" | "fleet" | "ts">>;
}
