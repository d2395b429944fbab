/**
 * The device-io test kit: virtual time (a Clock and Timers that run only when the test advances
 * them) and a recording pin driver — the one fake this codebase allows, since no GPIO exists here.
 */
import type { GpioPin } from "../../board/schema.ts";
import type { Clock } from "../../runtime/clock.ts";
import { createLogger, type Logger } from "../../runtime/log.ts";
import type { Timers } from "../../runtime/telemetry/timers.ts";
import type { InputPin, Level, OutputPin, PinDriver } from "../../runtime/device-io/pins.ts";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets promise callbacks (async actions, `every`'s rescheduling) run before time moves on. */
const settle = () => new Promise<void>((r) => setImmediate(r));

export class FakeTime implements Clock, Timers {
  t = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now = () => this.t;
  monotonic = () => this.t;

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.pending.push({ id, at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Timers scheduled now (finite ones only count: a steady LED schedules none). */
  get scheduled(): number {
    return this.pending.length;
  }

  /** Runs every timer due up to now + ms in time order, letting promises settle before each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }

  /** Advances to an absolute virtual time. */
  to(at: number): Promise<void> {
    return this.advance(at - this.t);
  }
}

export interface Write {
  t: number;
  level: Level;
}

/** A pin driver recording LED writes with their virtual time, with a button the test presses. */
export class FakePins implements PinDriver {
  readonly name = "fake";
  writes: Write[] = [];
  ledOpen = false;
  buttonOpen = false;
  /** Button line level; 1 = released (pull-up), as the status board is wired. */
  level: Level = 1;
  private edge: (() => void) | null = null;

  constructor(private readonly time: FakeTime) {}

  output(_pin: GpioPin): OutputPin {
    this.ledOpen = true;
    return {
      write: (level) => void this.writes.push({ t: this.time.t, level }),
      close: () => void (this.ledOpen = false),
    };
  }

  input(_pin: GpioPin, onEdge: () => void): InputPin {
    this.buttonOpen = true;
    this.edge = onEdge;
    return {
      read: () => this.level,
      close: () => {
        this.buttonOpen = false;
        this.edge = null;
      },
    };
  }

  /** Sets the line and fires an edge, as the kernel does on each transition. */
  set(level: Level): void {
    this.level = level;
    this.edge?.();
  }

  /** A contact bounce: the line toggles at each offset (ms from now), the last one landing on `level`. */
  async bounce(level: Level, offsets: number[]): Promise<void> {
    const other: Level = level === 1 ? 0 : 1;
    offsets.forEach((at, i) => this.time.setTimeout(() => this.set((offsets.length - 1 - i) % 2 === 0 ? level : other), at));
    await this.time.advance(Math.max(...offsets));
  }

  /** LED writes in [from, to), times relative to `from`. */
  timeline(from: number, to: number): [number, Level][] {
    return this.writes.filter((w) => w.t >= from && w.t < to).map((w) => [w.t - from, w.level]);
  }
}

export const LED_PIN: GpioPin = { headerPin: 11, name: "GPIO17", chip: "pinctrl-rp1", line: 17 };
export const BUTTON_PIN: GpioPin = { headerPin: 13, name: "GPIO27", chip: "pinctrl-rp1", line: 27 };

/** A logger that keeps its JSON lines, parsed, for assertions. */
export function recordingLogger(): { logger: Logger; lines: { level: string; msg: string; [k: string]: unknown }[] } {
  const lines: { level: string; msg: string }[] = [];
  return { logger: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)), now: () => 0 }), lines };
}
