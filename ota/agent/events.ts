/**
 * OTA state events for the fleet (MQTT `/ota`, routed by the server's telemetry): one at every
 * state change, and download progress at most every PROGRESS_STEP of the file. The payload is the
 * schema below; the updater hands events to its `onEvent` callback and never waits for delivery.
 */
import { Type, type Static } from "@sinclair/typebox";
import { LastCheckSchema, OtaProgressSchema, OtaReasonSchema, OtaReleaseSchema, OtaStateSchema, type OtaRecord } from "./state.ts";

export const OTA_EVENT_TYPE = "hearth-ota-event";

export const OtaEventSchema = Type.Object(
  {
    type: Type.Literal(OTA_EVENT_TYPE),
    /** state: a transition; progress: bytes of a download; check: the outcome of a check. */
    event: Type.Union([Type.Literal("state"), Type.Literal("progress"), Type.Literal("check")]),
    at: Type.String({ description: "ISO time of the event" }),
    state: OtaStateSchema,
    release: Type.Union([OtaReleaseSchema, Type.Null()]),
    progress: Type.Union([OtaProgressSchema, Type.Null()]),
    reason: Type.Union([OtaReasonSchema, Type.Null()]),
    lastCheck: Type.Union([LastCheckSchema, Type.Null()]),
  },
  { additionalProperties: false, title: "OtaEvent" },
);
export type OtaEvent = Static<typeof OtaEventSchema>;

/** A progress event is sent each time the download crosses another tenth of the file. */
export const PROGRESS_STEP = 0.1;

export function eventOf(event: OtaEvent["event"], record: OtaRecord, at: number): OtaEvent {
  return {
    type: OTA_EVENT_TYPE,
    event,
    at: new Date(at).toISOString(),
    state: record.state,
    release: record.release,
    progress: record.progress,
    reason: record.reason,
    lastCheck: record.lastCheck,
  };
}
