import { afterAll, describe, expect, test } from "bun:test";
import { statusPins } from "../../board/gpio.ts";
import { RootFs } from "../../board/root-fs.ts";
import { openGpioDriver, NOT_DRIVEN } from "../../runtime/device-io/gpio-driver.ts";
import { listGpioChips, sysfsNumber } from "../../runtime/device-io/sysfs-number.ts";
import { removeFixtureRoots, treeRoot } from "../board/fixture.ts";
import { recordingLogger } from "./fakes.ts";

/** A /sys/class/gpio tree with the given chips (label, base, ngpio), as the kernel lays it out. */
function sysfsTree(chips: [label: string, base: number, ngpio: number][]): string {
  const files: Record<string, string> = { "sys/class/gpio/export": "", "sys/class/gpio/unexport": "" };
  for (const [label, base, ngpio] of chips) {
    const dir = `sys/class/gpio/gpiochip${base}`;
    Object.assign(files, { [`${dir}/label`]: `${label}\n`, [`${dir}/base`]: `${base}\n`, [`${dir}/ngpio`]: `${ngpio}\n` });
  }
  return treeRoot(files);
}

// Bases: Jetson Orin's are NVIDIA's documented ones (JetPack 6: "gpiochip0: registered GPIOs 348 to
// 511 on tegra234-gpio", 316-347 on tegra234-gpio-aon). Pi 4: kernel 6.6 moved its bases from 0 to
// 512. Pi 5: RP1's base as of the gpiochip0 renumbering (569; 571 on early 6.6, 399 on 6.1); the
// brcmstb chip beside it is an assumption, there so the label, not the position, is what matches.
const BOARDS = {
  rpi5: sysfsTree([["gpio-brcmstb@107d508500", 512, 32], ["pinctrl-rp1", 569, 54]]),
  rpi4: sysfsTree([["pinctrl-bcm2711", 512, 58], ["raspberrypi-exp-gpio", 570, 8]]),
  orin: sysfsTree([["tegra234-gpio-aon", 316, 32], ["tegra234-gpio", 348, 164]]),
};

afterAll(removeFixtureRoots);

const numbersOf = (root: string, pins: ReturnType<typeof statusPins>) => {
  const chips = listGpioChips(new RootFs(root));
  return [pins.led!, pins.button!].map((p) => sysfsNumber(chips, p));
};

describe("sysfs GPIO numbers from gpiochip labels", () => {
  test("Raspberry Pi 5: pinctrl-rp1 base 569 → GPIO17 = 586, GPIO27 = 596", () => {
    expect(numbersOf(BOARDS.rpi5, statusPins("rpi5", []))).toEqual([{ number: 586 }, { number: 596 }]);
  });

  test("Raspberry Pi 4: pinctrl-bcm2711 base 512 → 529, 539", () => {
    expect(numbersOf(BOARDS.rpi4, statusPins("rpi4", []))).toEqual([{ number: 529 }, { number: 539 }]);
  });

  test("Jetson Orin: tegra234-gpio base 348 (not the -aon chip) → lines 112/122 = 460/470, AGX button 108 = 456", () => {
    expect(numbersOf(BOARDS.orin, statusPins("jetson-orin-nano", []))).toEqual([{ number: 460 }, { number: 470 }]);
    expect(numbersOf(BOARDS.orin, statusPins("jetson-agx-orin", []))).toEqual([{ number: 460 }, { number: 456 }]);
  });

  test("a profile whose chip is missing, or a line past the chip's end, says why", () => {
    const [led] = numbersOf(BOARDS.rpi4, statusPins("rpi5", []));
    expect(led).toEqual({ reason: "no gpiochip labelled pinctrl-rp1 under /sys/class/gpio (labels: pinctrl-bcm2711, raspberrypi-exp-gpio)" });
    const chips = listGpioChips(new RootFs(BOARDS.rpi4));
    expect(sysfsNumber(chips, { headerPin: 40, name: "GPIO60", chip: "pinctrl-bcm2711", line: 60 })).toEqual({
      reason: "pinctrl-bcm2711 has 58 lines, line 60 (GPIO60) is not one of them",
    });
  });
});

/** An onoff stand-in: the Gpio class of a board, recording what the driver does to each line. */
function fakeOnoff() {
  const lines: { n: number; direction: string; edge?: string; writes: number[]; unexported: boolean; watcher?: (e: null, v: 0 | 1) => void }[] = [];
  class Gpio {
    static accessible = true;
    private line;
    constructor(n: number, direction: string, edge?: string) {
      this.line = { n, direction, edge, writes: [] as number[], unexported: false };
      lines.push(this.line);
    }
    readSync = () => 1 as const;
    writeSync = (v: number) => void this.line.writes.push(v);
    watch = (cb: (e: null, v: 0 | 1) => void) => void Object.assign(this.line, { watcher: cb });
    unwatchAll = () => {};
    unexport = () => void (this.line.unexported = true);
  }
  return { lines, load: async () => ({ default: { Gpio } }) };
}

describe("choosing the pin driver", () => {
  const pi5 = statusPins("rpi5", []);

  test("no /sys/class/gpio (x86, this machine): null and one warning", async () => {
    const { logger, lines } = recordingLogger();
    expect(await openGpioDriver({ pins: pi5, logger, root: treeRoot() })).toBeNull();
    expect(lines).toEqual([expect.objectContaining({ level: "warn", msg: NOT_DRIVEN, reason: expect.stringContaining("/sys/class/gpio does not exist") })]);
  });

  test("onoff as installed here (its epoll addon is not built for Bun, and there is no GPIO): null and one warning", async () => {
    const { logger, lines } = recordingLogger();
    expect(await openGpioDriver({ pins: pi5, logger, root: BOARDS.rpi5 })).toBeNull();
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ level: "warn", msg: NOT_DRIVEN });
    expect(String(lines[0]!.reason)).toMatch(/^onoff (could not be loaded|cannot open)/);
  });

  test("onoff not installed: the reason names the import failure", async () => {
    const { logger, lines } = recordingLogger();
    const load = () => Promise.reject(new Error("Cannot find module 'onoff'\n  from runtime/device-io"));
    expect(await openGpioDriver({ pins: pi5, logger, root: BOARDS.rpi5, loadOnoff: load })).toBeNull();
    expect(lines).toEqual([expect.objectContaining({ reason: "onoff could not be loaded: Cannot find module 'onoff' from runtime/device-io" })]);
  });

  test("where onoff loads, pins open at their resolved sysfs numbers, LED low first, both released on close", async () => {
    const { logger, lines } = recordingLogger();
    const onoff = fakeOnoff();
    const driver = (await openGpioDriver({ pins: pi5, logger, root: BOARDS.rpi5, loadOnoff: onoff.load }))!;
    expect(driver.name).toBe("onoff");
    const led = driver.output(pi5.led!);
    led.write(1);
    led.write(0);
    let edges = 0;
    const button = driver.input(pi5.button!, () => edges++);
    onoff.lines[1]!.watcher!(null, 0);
    expect(edges).toBe(1);
    led.close();
    button.close();
    expect(onoff.lines).toEqual([
      { n: 586, direction: "low", edge: undefined, writes: [1, 0], unexported: true },
      expect.objectContaining({ n: 596, direction: "in", edge: "both", unexported: true }),
    ]);
    expect(lines).toEqual([]);
  });
});
