/** Telemetry settings, allow-listed settings, logs, restart and factory reset. */
import { Type, type Static } from "@sinclair/typebox";
import { IsoTime } from "./common.ts";

const TelemetryFields = {
  broker: Type.Union([Type.String({ pattern: "^mqtts?://", maxLength: 512 }), Type.Null()], {
    description: "MQTT broker URL (mqtt:// or mqtts://); null: none (telemetry waits in the outbox). Shown without its password",
  }),
  enabled: Type.Boolean({ description: "The owner's opt-in to state and health telemetry" }),
  fleet: Type.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", description: "Fleet name (topic segment)" }),
};

export const TelemetrySettings = Type.Object(
  {
    inForce: Type.Object(TelemetryFields, { additionalProperties: false, description: "What this running server uses" }),
    next: Type.Object(TelemetryFields, { additionalProperties: false, description: "What applies at the next restart (stored changes included)" }),
    restartRequired: Type.Boolean(),
    status: Type.Object(
      {
        started: Type.Boolean(),
        broker: Type.Union([Type.String(), Type.Null()]),
        connected: Type.Boolean(),
        lastError: Type.Union([Type.String(), Type.Null()]),
        reconnectAttempts: Type.Integer(),
        outbox: Type.Object({}, { additionalProperties: true, description: "Messages waiting, by channel" }),
      },
      { additionalProperties: true },
    ),
  },
  { title: "TelemetrySettings", additionalProperties: false },
);
export type TelemetrySettings = Static<typeof TelemetrySettings>;

export const TelemetryUpdate = Type.Object(
  { broker: Type.Optional(TelemetryFields.broker), enabled: Type.Optional(TelemetryFields.enabled), fleet: Type.Optional(TelemetryFields.fleet) },
  { title: "TelemetryUpdate", additionalProperties: false, minProperties: 1, description: "Stored at once, applied at the next restart" },
);
export type TelemetryUpdate = Static<typeof TelemetryUpdate>;

export const LogRecord = Type.Object(
  {
    time: IsoTime("When it was logged"),
    level: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")]),
    msg: Type.String(),
    fields: Type.Object({}, { additionalProperties: true }),
  },
  { title: "LogRecord", additionalProperties: false },
);

export const LogsResponse = Type.Object({ records: Type.Array(LogRecord, { description: "Oldest first" }) }, { title: "LogsResponse", additionalProperties: false });

export const RestartResponse = Type.Object(
  { restarting: Type.Literal(true), message: Type.String() },
  { title: "RestartResponse", additionalProperties: false },
);

export const FactoryResetRequest = Type.Object(
  { confirm: Type.Literal("factory-reset", { description: 'Must be "factory-reset"' }) },
  { title: "FactoryResetRequest", additionalProperties: false },
);

export const FactoryResetResponse = Type.Object(
  {
    cleared: Type.Array(Type.String(), { description: "What was removed" }),
    kept: Type.Array(Type.String(), { description: "What was kept" }),
    message: Type.String(),
  },
  { title: "FactoryResetResponse", additionalProperties: false },
);
export type FactoryResetResponse = Static<typeof FactoryResetResponse>;
