import { RootFs } from "../../board/root-fs.ts";
import type { Logger } from "../log.ts";
import { onoffDriver, pinKey, type OnoffModule } from "./onoff-driver.ts";
import type { PinDriver, StatusPins } from "./pins.ts";
import { GPIO_CLASS, listGpioChips, sysfsNumber } from "./sysfs-number.ts";

/** Imports onoff; the default goes through a variable so a box without it still type-checks and starts. */
export type LoadOnoff = () => Promise<unknown>;

const ONOFF = "onoff";
export const importOnoff: LoadOnoff = () => import(ONOFF);

export const NOT_DRIVEN = "status LED and button not driven";

/** onoff is CommonJS: its Gpio class arrives as a named export or on the default export. */
function gpioClassOf(mod: unknown): OnoffModule | null {
  const m = mod as { Gpio?: unknown; default?: { Gpio?: unknown } } | null;
  const Gpio = m?.Gpio ?? m?.default?.Gpio;
  return typeof Gpio === "function" ? ({ Gpio } as OnoffModule) : null;
}

/** Error text on one line, bounded (a missing native addon lists every path it tried). */
const brief = (err: unknown) => ((err as Error)?.message ?? String(err)).replace(/\s+/g, " ").trim().slice(0, 240);

async function tryOnoff(pins: StatusPins, root: string, load: LoadOnoff, logger: Logger): Promise<PinDriver | string> {
  const fs = new RootFs(root);
  if (!fs.exists(GPIO_CLASS)) return `${GPIO_CLASS} does not exist: no GPIO here, or the kernel was built without sysfs GPIO`;
  const chips = listGpioChips(fs);
  const numbers = new Map<string, number>();
  for (const pin of [pins.led, pins.button]) {
    if (!pin) continue;
    const found = sysfsNumber(chips, pin);
    if ("reason" in found) return found.reason;
    numbers.set(pinKey(pin), found.number);
  }
  let onoff: OnoffModule | null;
  try {
    onoff = gpioClassOf(await load());
  } catch (err) {
    return `onoff could not be loaded: ${brief(err)}`;
  }
  if (!onoff) return "onoff loaded without a Gpio class";
  // onoff's `accessible` checks the real /sys/class/gpio/export (it knows no other root).
  if (!onoff.Gpio.accessible) return `onoff cannot open ${GPIO_CLASS}/export (permissions: add the user to the gpio group)`;
  return onoffDriver(onoff, numbers, logger);
}

/**
 * The pin driver for this box: onoff where the board has status pins, sysfs GPIO exists, the
 * profile's chip labels resolve and onoff loads. Otherwise null after one warning with the reason
 * — x86 has no GPIO, and under Bun onoff's native epoll addon may not load — and the runtime carries on.
 */
export async function openGpioDriver(opts: { pins: StatusPins; logger: Logger; root?: string; loadOnoff?: LoadOnoff }): Promise<PinDriver | null> {
  const found = await tryOnoff(opts.pins, opts.root ?? "/", opts.loadOnoff ?? importOnoff, opts.logger);
  if (typeof found !== "string") return found;
  opts.logger.warn(NOT_DRIVEN, { reason: found });
  return null;
}
