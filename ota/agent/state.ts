/**
 * The update state machine's record: where the box is in an update, of which release, how far,
 * and why it stopped. One record per box, persisted at every step (state-store.ts) and shown by
 * `hearth ota status`, the admin API, /metrics and the `/ota` events.
 *
 *   idle ─ checking ─ downloading ─ verifying ─ staged ─ switching ─ health-check ─ committed
 *                         │             │          │          │             │
 *                         └─────────────┴──────────┴─ failed  └─────────────┴─ rolled-back
 *
 * Resting states: idle (never updated), committed, rolled-back, failed. `checking` is transient
 * and never persisted over a resting state: a check's outcome goes to `lastCheck`.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const OTA_STATES = ["idle", "checking", "downloading", "verifying", "staged", "switching", "health-check", "committed", "rolled-back", "failed"] as const;
export type OtaState = (typeof OTA_STATES)[number];

/** States in which an update is under way (the LED shows updating; another apply is a conflict). */
export const BUSY_STATES: ReadonlySet<OtaState> = new Set(["checking", "downloading", "verifying", "staged", "switching", "health-check"]);

export const OtaStateSchema = Type.Union(OTA_STATES.map((s) => Type.Literal(s)));

const BaseSchema = Type.Object({ name: Type.String(), versions: Type.String(), sha256: Type.Optional(Type.String()) }, { additionalProperties: false });

/** The release a step is about: the manifest's identity and the one file chosen for this board. */
export const OtaReleaseSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal("base-model"), Type.Literal("lora")]),
    name: Type.String(),
    version: Type.String(),
    file: Type.String(),
    quantization: Type.String(),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String(),
    /** For a LoRA adapter: the base model it applies to (manifest `base`). */
    base: Type.Optional(BaseSchema),
  },
  { additionalProperties: false },
);
export type OtaRelease = Static<typeof OtaReleaseSchema>;

export const OtaReasonSchema = Type.Object(
  {
    /** A stable code: an OTA refusal (ota/reasons.ts), a download or slot reason (ota/agent/errors.ts), a HearthError code, health_check_failed or interrupted. */
    code: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type OtaReason = Static<typeof OtaReasonSchema>;

export const OtaProgressSchema = Type.Object(
  { bytes: Type.Integer({ minimum: 0 }), total: Type.Integer({ minimum: 0 }), rate: Type.Number({ minimum: 0, description: "Bytes per second" }) },
  { additionalProperties: false },
);
export type OtaProgress = Static<typeof OtaProgressSchema>;

export const LastCheckSchema = Type.Object(
  {
    at: Type.String(),
    outcome: Type.Union([Type.Literal("available"), Type.Literal("up-to-date"), Type.Literal("refused"), Type.Literal("error")]),
    release: Nullable(Type.Object({ kind: Type.String(), name: Type.String(), version: Type.String() })),
    reason: Nullable(OtaReasonSchema),
  },
  { additionalProperties: false },
);
export type LastCheck = Static<typeof LastCheckSchema>;

export const OtaRecordSchema = Type.Object(
  {
    state: OtaStateSchema,
    /** When this state was entered (ISO). */
    since: Type.String(),
    /** The release of the update under way, or of the last one. */
    release: Nullable(OtaReleaseSchema),
    progress: Nullable(OtaProgressSchema),
    /** Why the last update failed or was rolled back; null otherwise. */
    reason: Nullable(OtaReasonSchema),
    lastCheck: Nullable(LastCheckSchema),
    /** A version a signed rollback command allowed for the update under way (kept for its resume). */
    allowRollbackTo: Nullable(Type.String()),
    /** The base model serves the factory file (config model.path): a rollback went past the first OTA release. */
    factory: Type.Boolean(),
    /** A release rolled back from (health check or by hand): periodic checks do not install it again, an explicit apply does. */
    skip: Nullable(Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: false })),
    /** Installed LoRA adapters by name: the base model each applies to (they serve only on a matching base). */
    adapterBases: Type.Record(Type.String(), BaseSchema),
  },
  { additionalProperties: false },
);
export type OtaRecord = Static<typeof OtaRecordSchema>;

export const initialRecord = (now: number): OtaRecord => ({
  state: "idle",
  since: new Date(now).toISOString(),
  release: null,
  progress: null,
  reason: null,
  lastCheck: null,
  allowRollbackTo: null,
  factory: false,
  skip: null,
  adapterBases: {},
});

export const describeRelease = (r: { name: string; version: string } | null): string | null => (r ? `${r.name} ${r.version}` : null);
