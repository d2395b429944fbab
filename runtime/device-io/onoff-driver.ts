import type { GpioPin } from "../../board/schema.ts";
import type { Logger } from "../log.ts";
import type { InputPin, Level, OutputPin, PinDriver } from "./pins.ts";

/** The part of onoff's Gpio class used here (typed locally: onoff is an optional dependency). */
interface OnoffGpio {
  readSync(): Level;
  writeSync(value: Level): void;
  watch(callback: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export interface OnoffModule {
  Gpio: {
    new (gpio: number, direction: "in" | "low", edge?: "both"): OnoffGpio;
    readonly accessible: boolean;
  };
}

export const pinKey = (pin: GpioPin) => `${pin.chip}:${pin.line}`;

/** Logs a failure of one pin once, so a broken pin cannot flood the log from a timer loop. */
function onceWarner(logger: Logger, msg: string, pin: GpioPin): (err: unknown) => void {
  let warned = false;
  return (err) => {
    if (warned) return;
    warned = true;
    logger.warn(msg, { pin: pin.name, header_pin: pin.headerPin, error: (err as Error)?.message ?? String(err) });
  };
}

/**
 * Pins through onoff's sysfs interface. `numbers` maps each pin (pinKey) to its sysfs number,
 * resolved from the gpiochip labels beforehand. Write and read failures are logged once per pin
 * and never thrown: they happen on timers, where a throw would take the runtime down.
 */
export function onoffDriver(onoff: OnoffModule, numbers: ReadonlyMap<string, number>, logger: Logger): PinDriver {
  const numberOf = (pin: GpioPin) => {
    const n = numbers.get(pinKey(pin));
    if (n === undefined) throw new Error(`no sysfs number resolved for ${pin.chip} line ${pin.line}`);
    return n;
  };
  return {
    name: "onoff",
    output(pin): OutputPin {
      // "low" sets the direction and drives low in one step, so the LED never flashes on export.
      const gpio = new onoff.Gpio(numberOf(pin), "low");
      const failed = onceWarner(logger, "status LED write failed", pin);
      return {
        write(level) {
          try {
            gpio.writeSync(level);
          } catch (err) {
            failed(err);
          }
        },
        close: () => gpio.unexport(),
      };
    },
    input(pin, onEdge): InputPin {
      const gpio = new onoff.Gpio(numberOf(pin), "in", "both");
      let last = gpio.readSync();
      const failed = onceWarner(logger, "button read failed", pin);
      gpio.watch((err, value) => {
        if (err) return failed(err);
        last = value;
        onEdge();
      });
      return {
        read() {
          try {
            last = gpio.readSync();
          } catch (err) {
            failed(err);
          }
          return last;
        },
        close() {
          gpio.unwatchAll();
          gpio.unexport();
        },
      };
    },
  };
}
