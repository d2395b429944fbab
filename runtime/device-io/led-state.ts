import type { LedState } from "./led-patterns.ts";

/** The model's state as ModelHost.status() reports it. */
export type ModelState = "loading" | "ready" | "failed";

/** Runtime facts the LED reflects, read as functions so the poller always sees the current value. */
export interface RuntimeFacts {
  model(): ModelState;
  /** Generations running now (ModelHost.activity().busy). */
  busySlots(): number;
  updating(): boolean;
}

/**
 * The LED state for the facts, most important first: an update in progress (the box must not be
 * unplugged), a failed model, still booting, serving a request, idle. A fact that cannot be read
 * shows as error, since the LED must never claim "ready" for a box it cannot vouch for.
 */
export function ledStateOf(facts: RuntimeFacts): LedState {
  try {
    if (facts.updating()) return "updating";
    const model = facts.model();
    if (model === "failed") return "error";
    if (model === "loading") return "booting";
    return facts.busySlots() > 0 ? "busy" : "ready";
  } catch {
    return "error";
  }
}
