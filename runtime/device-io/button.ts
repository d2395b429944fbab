import type { GpioPin } from "../../board/schema.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { TimerHandle, Timers } from "../telemetry/timers.ts";
import type { InputPin, Level, PinDriver } from "./pins.ts";

export interface ButtonTiming {
  /** A level counts once it has held this long with no further edge. */
  debounceMs: number;
  /** Held this long: the LED warns that a reset is coming, and releasing now cancels. */
  warnAfterMs: number;
  /** Held this long: factory reset, fired at this mark while the button is still down. */
  holdMs: number;
}

export const BUTTON_TIMING: ButtonTiming = { debounceMs: 50, warnAfterMs: 3_000, holdMs: 10_000 };

export interface ButtonOptions {
  driver: PinDriver;
  pin: GpioPin;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Level of a pressed button: 0 for a button to ground with a pull-up (the status board's wiring). */
  pressedLevel?: Level;
  timing?: Partial<ButtonTiming>;
  /** Shows a new pairing code; may return a promise (presses are ignored until it settles). */
  onShortPress(): unknown;
  /** Factory reset; may return a promise. */
  onLongHold(): unknown;
  /** The reset warning starts (true) or ends (false): released to cancel, or the reset finished. */
  onWarning(active: boolean): void;
}

/**
 * The button's gestures, timed from the first edge of a press (bounces included, so the hold fires
 * exactly 10 s after the finger went down):
 * - released before 3 s: short press → onShortPress;
 * - released between 3 s and 10 s: cancelled, nothing runs (the user was heading for a reset and
 *   changed their mind; a new pairing code would surprise them);
 * - held to 10 s: onLongHold, once, at the mark; the release afterwards does nothing.
 * A press while an action still runs, or one already down when the runtime starts (a stuck button
 * must not reset the box on every boot), is ignored until released.
 */
export class Button {
  private readonly timing: ButtonTiming;
  private readonly input: InputPin;
  private readonly pressedLevel: Level;
  private pressed: boolean;
  /** Monotonic ms of the first edge of the burst being debounced. */
  private burstAt = 0;
  private pressedAt = 0;
  private settleTimer: TimerHandle | null = null;
  private warnTimer: TimerHandle | null = null;
  private holdTimer: TimerHandle | null = null;
  /** The 10 s mark passed while edges were still settling: decide once they have. */
  private holdDue = false;
  private warned = false;
  /** This press is not acted upon (held at start, pressed during an action, or reset already fired). */
  private ignoring: boolean;
  private acting = false;

  constructor(private readonly opts: ButtonOptions) {
    this.timing = { ...BUTTON_TIMING, ...opts.timing };
    this.pressedLevel = opts.pressedLevel ?? 0;
    this.input = opts.driver.input(opts.pin, () => this.edge());
    this.pressed = this.input.read() === this.pressedLevel;
    this.ignoring = this.pressed;
    if (this.pressed) opts.logger.warn("button is down at start: ignored until released", { pin: opts.pin.name });
  }

  close(): void {
    for (const t of [this.settleTimer, this.warnTimer, this.holdTimer]) if (t !== null) this.opts.timers.clearTimeout(t);
    this.settleTimer = this.warnTimer = this.holdTimer = null;
    this.input.close();
  }

  private edge(): void {
    if (this.settleTimer === null) this.burstAt = this.opts.clock.monotonic();
    else this.opts.timers.clearTimeout(this.settleTimer);
    this.settleTimer = this.opts.timers.setTimeout(() => this.settle(), this.timing.debounceMs);
  }

  private settle(): void {
    this.settleTimer = null;
    const pressed = this.input.read() === this.pressedLevel;
    if (pressed !== this.pressed) {
      this.pressed = pressed;
      if (pressed) this.press();
      else this.release();
    }
    if (this.pressed && this.holdDue) this.longHold();
  }

  private press(): void {
    if (this.acting) {
      this.ignoring = true;
      this.opts.logger.info("button pressed while its previous action runs: ignored");
      return;
    }
    this.ignoring = false;
    this.warned = false;
    this.pressedAt = this.burstAt;
    const since = this.opts.clock.monotonic() - this.pressedAt;
    this.warnTimer = this.opts.timers.setTimeout(() => this.warn(), this.timing.warnAfterMs - since);
    this.holdTimer = this.opts.timers.setTimeout(() => this.holdReached(), this.timing.holdMs - since);
  }

  private release(): void {
    this.clearHoldTimers();
    if (this.ignoring) {
      this.ignoring = false;
      return;
    }
    const heldMs = this.burstAt - this.pressedAt;
    if (this.warned) this.opts.onWarning(false);
    if (heldMs < this.timing.warnAfterMs) this.act("short press", this.opts.onShortPress);
    else this.opts.logger.info("factory reset cancelled: button released before 10 s", { held_ms: Math.round(heldMs) });
  }

  private warn(): void {
    this.warnTimer = null;
    this.warned = true;
    this.opts.onWarning(true);
    this.opts.logger.info("button held: keep holding for a factory reset, release to cancel");
  }

  private holdReached(): void {
    this.holdTimer = null;
    if (this.settleTimer !== null) this.holdDue = true;
    else this.longHold();
  }

  private longHold(): void {
    this.clearHoldTimers();
    this.ignoring = true;
    this.opts.logger.warn("button held 10 s: factory reset");
    this.act("factory reset", this.opts.onLongHold, () => this.opts.onWarning(false));
  }

  private clearHoldTimers(): void {
    for (const t of [this.warnTimer, this.holdTimer]) if (t !== null) this.opts.timers.clearTimeout(t);
    this.warnTimer = this.holdTimer = null;
    this.holdDue = false;
  }

  /** Runs an action (sync or async); presses are ignored until it settles; failures are logged. */
  private act(what: string, action: () => unknown, after?: () => void): void {
    this.acting = true;
    const done = () => {
      this.acting = false;
      after?.();
    };
    const failed = (err: unknown) => this.opts.logger.error("button action failed", { action: what, error: (err as Error)?.message ?? String(err) });
    try {
      Promise.resolve(action()).catch(failed).finally(done);
    } catch (err) {
      failed(err);
      done();
    }
  }
}
