import type { ModelHost, ModelState } from "../engine/model-host.ts";
import type { SlotStats } from "../engine/slot-pool.ts";
import type { Registry } from "./registry.ts";

const STATES: readonly ModelState[] = ["loading", "ready", "failed", "refused"];

/** Per-model gauges read from the ModelHost at scrape time: state, slots, queue, load time. */
export function modelGauges(registry: Registry, models: Pick<ModelHost, "models" | "served">): void {
  registry.gauge("hearth_model_state", "1 for the state each configured model is in (loading, ready, failed, refused), 0 for the others", ["model", "state"], (emit) => {
    for (const r of models.models()) for (const s of STATES) emit([r.id, s], r.state === s ? 1 : 0);
  });
  const slotGauge = (name: string, help: string, read: (s: SlotStats) => number) =>
    registry.gauge(name, help, ["model"], (emit) => {
      for (const engine of models.served()) emit([engine.model.id], read(engine.slots()));
    });
  slotGauge("hearth_model_slots", "Generation slots (parallel sequences) of each served model", (s) => s.total);
  slotGauge("hearth_model_slots_active", "Slots generating right now", (s) => s.busy);
  slotGauge("hearth_model_queue_depth", "Requests waiting for a slot", (s) => s.queued);
  slotGauge("hearth_model_queue_capacity", "Requests that may wait for a slot before new ones get 429", (s) => s.queueCapacity);
  registry.gauge("hearth_model_load_duration_seconds", "How long loading each served model took (weights and context)", ["model"], (emit) => {
    for (const engine of models.served()) emit([engine.model.id], engine.model.loadMs / 1000);
  });
}
