import type { MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { ModelHost } from "../engine/model-host.ts";
import type { InferenceObserver } from "../http/openai/shared.ts";
import type { HealthSnapshot } from "../telemetry/health.ts";
import type { TelemetryStatus } from "../telemetry/telemetry.ts";
import { httpRequestCounter } from "./http.ts";
import { inferenceMetrics } from "./inference.ts";
import { KeyNames } from "./key-names.ts";
import { modelGauges } from "./models.ts";
import { Registry } from "./registry.ts";
import { healthGauges, processGauges } from "./system.ts";
import { otaGauges, telemetryGauges, type OtaStatus } from "./telemetry.ts";

/** Where the figures come from; every getter is read at scrape time and none of them samples. */
export interface MetricsDeps {
  clock: Clock;
  version: string;
  models: Pick<ModelHost, "models" | "served">;
  /** The name of an API key (revoked or not), null for an id that does not exist. */
  keyName: (keyId: string) => string | null;
  /** The latest cached health snapshot, null before the first one. */
  health?: () => HealthSnapshot | null;
  telemetry?: () => TelemetryStatus | null;
  /** The OTA updater's state; absent (or null) until there is one. */
  ota?: () => OtaStatus | null;
}

export interface Metrics {
  /** Goes in InferenceDeps: counts requests and tokens, times latency and the first token. */
  observer: InferenceObserver;
  /** Middleware for the API router: counts every answer by endpoint and status. */
  countHttp: MiddlewareHandler;
  /** The scrape, in the Prometheus text format 0.0.4. */
  render(): string;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const keys = new KeyNames(deps.keyName, deps.clock);
  const none = () => null;
  const countHttp = httpRequestCounter(registry);
  const observer = inferenceMetrics(registry, { clock: deps.clock, keyName: (id) => keys.nameOf(id) });
  modelGauges(registry, deps.models);
  processGauges(registry, deps);
  healthGauges(registry, deps.health ?? none);
  telemetryGauges(registry, deps.telemetry ?? none);
  otaGauges(registry, deps.ota ?? none);
  return { observer, countHttp, render: () => registry.render() };
}
