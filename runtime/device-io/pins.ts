import type { GpioPin } from "../../board/schema.ts";

/** A logic level as sysfs and onoff give it: 1 = high (3.3 V), 0 = low. */
export type Level = 0 | 1;

export interface OutputPin {
  write(level: Level): void;
  /** Releases the pin (unexports it); the caller drives it low first. */
  close(): void;
}

export interface InputPin {
  read(): Level;
  close(): void;
}

/**
 * The seam between the LED/button logic and the hardware: onoff on a board, a recording fake in
 * tests. Pins are named as the board profile names them (gpiochip label + line), so a driver
 * resolves them to whatever numbering its backend uses.
 */
export interface PinDriver {
  readonly name: string;
  output(pin: GpioPin): OutputPin;
  /** An input watched on both edges; `onEdge` runs after every edge, bounces included. */
  input(pin: GpioPin, onEdge: () => void): InputPin;
}

/** The board profile's status pins (`profile.gpio`); null where the board has none. */
export interface StatusPins {
  led: GpioPin | null;
  button: GpioPin | null;
  /** Why the board has the pins it has (`profile.reasons.gpio`), logged when it has none. */
  why?: string;
}
