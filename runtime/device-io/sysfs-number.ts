import { readInteger, type RootFs } from "../../board/root-fs.ts";
import type { GpioPin } from "../../board/schema.ts";

/** Where the kernel's (deprecated but still built) sysfs GPIO interface lives. */
export const GPIO_CLASS = "/sys/class/gpio";

export interface GpioChip {
  /** Directory name, e.g. gpiochip569. */
  dir: string;
  label: string;
  base: number;
  ngpio: number;
}

/** The gpiochips sysfs lists, each with its label and number range; [] when sysfs GPIO is absent. */
export function listGpioChips(fs: RootFs): GpioChip[] {
  const chips: GpioChip[] = [];
  for (const dir of fs.list(GPIO_CLASS).filter((d) => d.startsWith("gpiochip"))) {
    const label = fs.text(`${GPIO_CLASS}/${dir}/label`)?.trim();
    const base = readInteger(fs, `${GPIO_CLASS}/${dir}/base`);
    const ngpio = readInteger(fs, `${GPIO_CLASS}/${dir}/ngpio`);
    if (label && base !== null && ngpio !== null) chips.push({ dir, label, base, ngpio });
  }
  return chips;
}

export type SysfsLookup = { number: number } | { reason: string };

/**
 * The global sysfs number onoff wants for a pin named by chip label and line: base + line. Bases
 * are assigned by the kernel and move between versions (the Pi 5's RP1 was 399 on 6.1, 571 then
 * 569 on 6.6+; the Pi 4's BCM2711 moved from 0 to 512 on 6.6), so they are read, never assumed.
 */
export function sysfsNumber(chips: readonly GpioChip[], pin: GpioPin): SysfsLookup {
  const chip = chips.find((c) => c.label === pin.chip);
  if (!chip) {
    const labels = chips.map((c) => c.label).join(", ") || "none";
    return { reason: `no gpiochip labelled ${pin.chip} under ${GPIO_CLASS} (labels: ${labels})` };
  }
  if (pin.line >= chip.ngpio) return { reason: `${pin.chip} has ${chip.ngpio} lines, line ${pin.line} (${pin.name}) is not one of them` };
  return { number: chip.base + pin.line };
}
