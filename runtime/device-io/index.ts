/**
 * The box's status LED and button. One entry point: startDeviceIo. The LED shows the runtime's
 * state (patterns in led-patterns.ts); the button's short press and 10 s hold call the handlers
 * passed in (button.ts). Where GPIO cannot be driven it logs one warning and does nothing.
 */
import type { GpioPin } from "../../board/schema.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { every, systemTimers, type Timers } from "../telemetry/timers.ts";
import { Button, type ButtonTiming } from "./button.ts";
import { NOT_DRIVEN, openGpioDriver, type LoadOnoff } from "./gpio-driver.ts";
import { ledStateOf, type ModelState } from "./led-state.ts";
import type { PinDriver, StatusPins } from "./pins.ts";
import { StatusLed } from "./status-led.ts";

export { LED_PATTERNS, LED_STATES, type LedState } from "./led-patterns.ts";
export { BUTTON_TIMING, type ButtonTiming } from "./button.ts";
export type { PinDriver, StatusPins } from "./pins.ts";

export interface DeviceIoOptions {
  /** The board profile's pins; a promise when the board is still being detected. */
  pins: StatusPins | Promise<StatusPins>;
  /** Default: onoff where it loads (see gpio-driver.ts). */
  driver?: PinDriver;
  /** Root the sysfs gpiochips are read under; default "/". */
  root?: string;
  loadOnoff?: LoadOnoff;
  clock: Clock;
  timers?: Timers;
  logger: Logger;
  state: { model(): ModelState; busySlots(): number };
  /** How often the LED re-reads the state; default 250 ms. */
  pollMs?: number;
  buttonTiming?: Partial<ButtonTiming>;
  /** Short press: show a new pairing code (AdminAuth.newPairingCode); may return a promise. */
  onShortPress(): unknown;
  /** Held 10 s: factory reset (AdminAuth.factoryReset); may return a promise. */
  onLongHold(): unknown;
}

export interface DeviceIo {
  /** Shows the update pattern while true (the OTA code sets it around applying an update). */
  setUpdating(flag: boolean): void;
  /** Settles once the pins are open, or known not to be drivable. */
  readonly started: Promise<void>;
  /** Leaves the LED off and releases both pins; pending button actions are not waited for. */
  stop(): Promise<void>;
}

export function startDeviceIo(opts: DeviceIoOptions): DeviceIo {
  const { logger } = opts;
  const timers = opts.timers ?? systemTimers;
  let updating = false;
  let warning = false;
  let stopped = false;
  let led: StatusLed | null = null;
  let button: Button | null = null;
  let stopPolling = () => {};
  const facts = { ...opts.state, updating: () => updating };
  const refresh = () => led?.show(warning ? "reset-warning" : ledStateOf(facts));

  // Opening a pin can fail on its own (EBUSY: another program exported it); the other one still works.
  const open = <T>(what: string, pin: GpioPin | null, make: (pin: GpioPin) => T): T | null => {
    if (!pin) return null;
    try {
      return make(pin);
    } catch (err) {
      logger.warn(`${what} not driven: opening its pin failed`, { pin: pin.name, header_pin: pin.headerPin, error: (err as Error).message });
      return null;
    }
  };

  // stop() must not wait for pins that never come (start-up failed before the board was detected).
  const stopping = Promise.withResolvers<null>();
  const start = async () => {
    const pins = await Promise.race([opts.pins, stopping.promise]);
    if (!pins || stopped) return;
    if (!pins.led && !pins.button) {
      logger.warn(NOT_DRIVEN, { reason: `this board has no status pins${pins.why ? `: ${pins.why}` : ""}` });
      return;
    }
    const driver = opts.driver ?? (await openGpioDriver({ pins, logger, root: opts.root, loadOnoff: opts.loadOnoff }));
    if (!driver || stopped) return;
    led = open("status LED", pins.led, (pin) => new StatusLed(driver.output(pin), timers));
    button = open("button", pins.button, (pin) =>
      new Button({
        driver,
        pin,
        clock: opts.clock,
        timers,
        logger,
        timing: opts.buttonTiming,
        onShortPress: opts.onShortPress,
        onLongHold: opts.onLongHold,
        onWarning: (active) => {
          warning = active;
          refresh();
        },
      }),
    );
    if (led) {
      refresh();
      stopPolling = every(timers, opts.pollMs ?? 250, refresh);
    }
    if (led || button) logger.info("status LED and button driven", { driver: driver.name, led: led ? pins.led!.name : null, button: button ? pins.button!.name : null });
  };
  const started = start().catch((err: Error) => logger.warn(NOT_DRIVEN, { reason: err.message }));

  return {
    setUpdating(flag) {
      updating = flag;
      refresh();
    },
    started,
    async stop() {
      stopped = true;
      stopping.resolve(null);
      await started;
      stopPolling();
      button?.close();
      led?.stop();
      button = led = null;
    },
  };
}
