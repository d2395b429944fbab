import type { TimerHandle, Timers } from "../telemetry/timers.ts";
import { LED_PATTERNS, type LedState } from "./led-patterns.ts";
import type { OutputPin } from "./pins.ts";

/**
 * Plays a state's pattern on the LED pin from the injected timers. Showing another state restarts
 * playback at that pattern's first step; showing the current state again changes nothing, so a
 * poller can call show() on every tick without disturbing the rhythm.
 */
export class StatusLed {
  private current: LedState | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly pin: OutputPin,
    private readonly timers: Timers,
  ) {}

  get state(): LedState | null {
    return this.current;
  }

  show(state: LedState): void {
    if (this.stopped || state === this.current) return;
    this.current = state;
    this.cancel();
    this.play(0);
  }

  /** Leaves the LED off and releases the pin. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel();
    this.pin.write(0);
    this.pin.close();
  }

  private play(index: number): void {
    const steps = LED_PATTERNS[this.current!];
    const step = steps[index]!;
    this.pin.write(step.level);
    if (steps.length === 1) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.play((index + 1) % steps.length);
    }, step.ms);
  }

  private cancel(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
