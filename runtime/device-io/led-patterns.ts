import type { Level } from "./pins.ts";

/**
 * What the status LED shows. Every pattern loops; a one-step pattern is a steady level.
 *
 * | state         | pattern                                              | period  | means                                   |
 * | ------------- | ---------------------------------------------------- | ------- | --------------------------------------- |
 * | booting       | on 500 ms, off 500 ms (slow 1 Hz blink)              | 1 s     | starting, the model is loading          |
 * | ready         | steady on                                            | –       | serving, idle                           |
 * | busy          | on 100 ms, off 100 ms (fast 5 Hz flicker)            | 200 ms  | at least one generation is running      |
 * | updating      | on 150, off 150, on 150, off 1050 ms (double blink)  | 1.5 s   | an update is being applied              |
 * | error         | 3 × (on 150, off 150), then off 1200 ms (triple)     | 2.1 s   | the model failed to load                |
 * | reset-warning | on 50 ms, off 50 ms (10 Hz strobe)                   | 100 ms  | button held ≥ 3 s: keep holding to 10 s to reset, release to cancel |
 *
 * Steady off is deliberately not a state: an unlit LED means no power or no runtime.
 */
export const LED_STATES = ["booting", "ready", "busy", "updating", "error", "reset-warning"] as const;
export type LedState = (typeof LED_STATES)[number];

export interface LedStep {
  level: Level;
  ms: number;
}

const on = (ms: number): LedStep => ({ level: 1, ms });
const off = (ms: number): LedStep => ({ level: 0, ms });

export const LED_PATTERNS: Readonly<Record<LedState, readonly LedStep[]>> = {
  booting: [on(500), off(500)],
  ready: [on(Infinity)],
  busy: [on(100), off(100)],
  updating: [on(150), off(150), on(150), off(1050)],
  error: [on(150), off(150), on(150), off(150), on(150), off(1350)],
  "reset-warning": [on(50), off(50)],
};
