import type { TelemetryStatus } from "../telemetry/telemetry.ts";
import { OUTBOX_CHANNELS } from "../telemetry/outbox.ts";
import type { Registry } from "./registry.ts";

/** What the OTA updater will report; the families below stay empty until one is wired. */
export interface OtaStatus {
  /** The updater's state, e.g. idle, downloading, staged, applying, rolled-back. */
  state: string;
}

/** MQTT telemetry, from Telemetry.status() (in-memory counts, no query) at scrape time. */
export function telemetryGauges(registry: Registry, status: () => TelemetryStatus | null): void {
  registry.gauge("hearth_telemetry_connected", "1 while connected to the telemetry broker, else 0", [], (emit) => {
    const s = status();
    if (s) emit([], s.connected ? 1 : 0);
  });
  registry.gauge("hearth_telemetry_outbox_messages", "Messages waiting in the telemetry outbox, by channel", ["channel"], (emit) => {
    const s = status();
    if (s) for (const channel of OUTBOX_CHANNELS) emit([channel], s.outbox.byChannel[channel] ?? 0);
  });
  registry.gauge("hearth_telemetry_in_flight_messages", "Messages published and not yet acknowledged by the broker", [], (emit) => {
    const s = status();
    if (s) emit([], s.outbox.inFlight);
  });
  registry.gauge("hearth_telemetry_reconnect_attempts", "Failed broker connection attempts since the last connection that held", [], (emit) => {
    const s = status();
    if (s) emit([], s.reconnectAttempts);
  });
}

/** 1 for the OTA updater's current state; no sample at all while no updater reports one. */
export function otaGauges(registry: Registry, ota: () => OtaStatus | null): void {
  registry.gauge("hearth_ota_state", "1 for the state the OTA updater is in; no sample until an updater reports", ["state"], (emit) => {
    const s = ota();
    if (s) emit([s.state], 1);
  });
}
