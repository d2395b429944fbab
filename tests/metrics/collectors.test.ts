import { describe, expect, test } from "bun:test";
import { createMetrics } from "../../runtime/metrics/metrics.ts";
import { KeyNames, NO_KEY, UNKNOWN_KEY } from "../../runtime/metrics/key-names.ts";
import { ModelHost } from "../../runtime/engine/model-host.ts";
import { planModels } from "../../runtime/engine/model-plan.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import type { HealthSnapshot } from "../../runtime/telemetry/health.ts";
import type { TelemetryStatus } from "../../runtime/telemetry/telemetry.ts";
import type { OtaStatus } from "../../runtime/metrics/telemetry.ts";
import { manualClock } from "../license/helpers.ts";
import { duplicateSeries, find, parseScrape, value } from "./scrape.ts";
import { promtoolCheck } from "./promtool.ts";

const MB = 1024 * 1024;

const snapshot: HealthSnapshot = {
  uptimeSeconds: 3600,
  cpuLoadPercent: 37.5,
  memory: { totalMB: 8192, usedMB: 2048 },
  temperaturesC: [
    { zone: "cpu-thermal", celsius: 61.2 },
    { zone: 'gpu "main"', celsius: 55 },
  ],
  disk: { totalMB: 100_000, usedMB: 25_000 },
  throttled: true,
};

const telemetry: TelemetryStatus = {
  started: true,
  broker: "mqtt://broker:1883",
  connected: true,
  protocolVersion: 5,
  lastError: null,
  reconnectAttempts: 2,
  policy: null,
  outbox: { total: 7, byChannel: { state: 1, health: 4, usage: 2 } as TelemetryStatus["outbox"]["byChannel"], inFlight: 3, refused: 0 },
};

describe("scrape-time sources", () => {
  test("health, telemetry and OTA figures come from their getters, in base units", async () => {
    const clock = manualClock();
    let ota: OtaStatus | null = { state: "downloading" };
    const metrics = createMetrics({
      clock,
      version: "9.9.9",
      models: new ModelHost(),
      keyName: () => null,
      health: () => snapshot,
      telemetry: () => telemetry,
      ota: () => ota,
    });
    const text = metrics.render();
    const s = parseScrape(text);
    expect(value(s, "hearth_system_cpu_load_ratio")).toBe(0.375);
    expect(value(s, "hearth_system_memory_total_bytes")).toBe(8192 * MB);
    expect(value(s, "hearth_system_memory_used_bytes")).toBe(2048 * MB);
    expect(value(s, "hearth_system_disk_used_bytes")).toBe(25_000 * MB);
    expect(value(s, "hearth_system_uptime_seconds")).toBe(3600);
    expect(value(s, "hearth_system_throttled")).toBe(1);
    expect(value(s, "hearth_system_temperature_celsius", { zone: "cpu-thermal" })).toBe(61.2);
    expect(value(s, "hearth_system_temperature_celsius", { zone: 'gpu "main"' })).toBe(55);
    expect(value(s, "hearth_telemetry_connected")).toBe(1);
    expect(value(s, "hearth_telemetry_in_flight_messages")).toBe(3);
    expect(value(s, "hearth_telemetry_reconnect_attempts")).toBe(2);
    // Every channel has a sample, zero when the outbox holds none for it.
    expect(find(s, "hearth_telemetry_outbox_messages").map((x) => [x.labels.channel, x.value])).toEqual([
      ["state", 1],
      ["health", 4],
      ["usage", 2],
      ["audit", 0],
      ["ota", 0],
      ["cmd/ack", 0],
    ]);
    expect(value(s, "hearth_ota_state", { state: "downloading" })).toBe(1);
    expect(value(s, "hearth_build_info", { version: "9.9.9" })).toBe(1);
    expect(value(s, "hearth_process_start_time_seconds")).toBe(clock.now() / 1000);
    expect(value(s, "hearth_process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(value(s, "hearth_process_heap_used_bytes")).toBeGreaterThan(0);
    expect(duplicateSeries(s)).toEqual([]);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });

    ota = { state: "staged" };
    const later = parseScrape(metrics.render());
    expect(find(later, "hearth_ota_state").map((x) => x.labels.state)).toEqual(["staged"]);
  });

  test("without a snapshot, a telemetry client or an OTA updater those families have no samples, not made-up values", async () => {
    const metrics = createMetrics({ clock: manualClock(), version: "1.0.0", models: new ModelHost(), keyName: () => null, health: () => null });
    const text = metrics.render();
    const s = parseScrape(text);
    for (const family of ["hearth_system_cpu_load_ratio", "hearth_system_temperature_celsius", "hearth_telemetry_connected", "hearth_telemetry_outbox_messages", "hearth_ota_state"]) {
      expect(find(s, family)).toEqual([]);
      expect(s.types.get(family)).toBe("gauge");
      expect(s.help.get(family)).toBeString();
    }
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });

  test("configured models not loaded yet show their state and no slots", async () => {
    const host = new ModelHost();
    const config = loadConfig({ flags: { "model.id": "primary", models: [{ path: "/models/b.gguf", id: "second" }] } });
    host.plan(planModels(config, "/models/a.gguf"));
    const text = createMetrics({ clock: manualClock(), version: "1", models: host, keyName: () => null }).render();
    const s = parseScrape(text);
    for (const model of ["primary", "second"]) {
      expect(find(s, "hearth_model_state", { model }).map((x) => [x.labels.state, x.value])).toEqual([
        ["loading", 1],
        ["ready", 0],
        ["failed", 0],
        ["refused", 0],
      ]);
    }
    expect(find(s, "hearth_model_slots")).toEqual([]);
    expect(find(s, "hearth_model_load_duration_seconds")).toEqual([]);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});

describe("key names", () => {
  test("names are cached for the TTL, so a rename shows after it; no key and unknown ids have their own labels", () => {
    const clock = manualClock(1_000_000);
    const names = new Map([["key_a", "billing"]]);
    let lookups = 0;
    const keys = new KeyNames(
      (id) => {
        lookups++;
        return names.get(id) ?? null;
      },
      clock,
      60_000,
    );
    expect(keys.nameOf("key_a")).toBe("billing");
    names.set("key_a", "accounts");
    clock.set(1_000_000 + 59_999);
    expect(keys.nameOf("key_a")).toBe("billing");
    expect(lookups).toBe(1);
    clock.set(1_000_000 + 60_000);
    expect(keys.nameOf("key_a")).toBe("accounts");
    expect(lookups).toBe(2);
    expect(keys.nameOf(null)).toBe(NO_KEY);
    expect(keys.nameOf("key_gone")).toBe(UNKNOWN_KEY);
    expect(lookups).toBe(3);
  });

  test("the cache stays bounded", () => {
    let lookups = 0;
    const keys = new KeyNames(() => `n${++lookups}`, manualClock(), 60_000, 4);
    for (let i = 0; i < 10; i++) keys.nameOf(`key_${i}`);
    expect(lookups).toBe(10);
    // key_9 went into the cache after the last clear; key_0 was dropped with it.
    keys.nameOf("key_9");
    expect(lookups).toBe(10);
    keys.nameOf("key_0");
    expect(lookups).toBe(11);
  });
});
