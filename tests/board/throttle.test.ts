import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createThrottleReader, decodePiThrottle, detectBoard, type CommandRunner } from "../../board/index.ts";
import { fixtureRoot, removeFixtureRoots } from "./fixture.ts";

afterAll(removeFixtureRoots);

describe("Pi throttle word", () => {
  test("decodes the firmware's bits: only the 'now' capping bits mean throttled now", () => {
    expect(decodePiThrottle(0)).toEqual({ throttled: false, reasons: [] });
    expect(decodePiThrottle(0x50000)).toEqual({ throttled: false, reasons: ["under-voltage has occurred since boot", "throttling has occurred since boot"] });
    expect(decodePiThrottle(0x50005).throttled).toBe(true);
    expect(decodePiThrottle(0x1).reasons).toEqual(["under-voltage now"]);
    expect(decodePiThrottle(0x8)).toEqual({ throttled: true, reasons: ["soft temperature limit active now"] });
  });

  test("Pi 4: read from soc:firmware/get_throttled under the root, no command run", async () => {
    const root = fixtureRoot("rpi4");
    const { profile } = await detectBoard({ root });
    let ran = false;
    const reading = await createThrottleReader(profile.throttle, { root, runner: async () => ((ran = true), { exitCode: 0, stdout: "" }) }).read();
    expect(ran).toBe(false);
    expect(reading).toEqual({
      throttled: false,
      reasons: ["under-voltage has occurred since boot", "throttling has occurred since boot"],
      source: "/sys/devices/platform/soc/soc:firmware/get_throttled",
      temperatures: [{ zone: "cpu-thermal", milliCelsius: 62300 }],
    });
  });

  test("Pi 5 without the sysfs file: asks `vcgencmd get_throttled` through the runner", async () => {
    const root = fixtureRoot("rpi5");
    const { profile } = await detectBoard({ root });
    const asked: string[][] = [];
    const runner: CommandRunner = async (argv) => (asked.push([...argv]), { exitCode: 0, stdout: "throttled=0x80008\n" });
    const reading = await createThrottleReader(profile.throttle, { root, runner }).read();
    expect(asked).toEqual([["vcgencmd", "get_throttled"]]);
    expect(reading).toMatchObject({ throttled: true, source: "vcgencmd get_throttled", reasons: ["soft temperature limit active now", "soft temperature limit has occurred since boot"] });
  });

  test("neither file nor command: throttled is unknown (null), not false", async () => {
    const root = fixtureRoot("rpi5");
    const { profile } = await detectBoard({ root });
    const reading = await createThrottleReader(profile.throttle, { root, runner: async () => ({ exitCode: 127, stdout: "" }) }).read();
    expect(reading.throttled).toBeNull();
    expect(reading.source).toBeNull();
  });
});

describe("thermal-zone throttle", () => {
  test("Orin Nano: cool zones are not throttled; a zone at its 99 °C passive trip is", async () => {
    const root = fixtureRoot("jetson-orin-nano");
    const { profile } = await detectBoard({ root });
    const reader = createThrottleReader(profile.throttle, { root });
    const cool = await reader.read();
    expect(cool).toMatchObject({ throttled: false, reasons: [], source: "/sys/class/thermal" });
    expect(cool.temperatures.map((t) => t.zone)).toEqual(["cpu-thermal", "gpu-thermal", "tj-thermal"]);

    writeFileSync(join(root, "sys/class/thermal/thermal_zone1/temp"), "99500\n");
    const hot = await reader.read();
    expect(hot.throttled).toBe(true);
    expect(hot.reasons).toEqual(["gpu-thermal at 99.5 °C, at or over its 99.0 °C throttle point"]);
  });

  test("Xavier's zones state no trip: the profile's 95 °C stands in", async () => {
    const root = fixtureRoot("jetson-xavier");
    const { profile } = await detectBoard({ root });
    writeFileSync(join(root, "sys/class/thermal/thermal_zone1/temp"), "95000\n");
    const reading = await createThrottleReader(profile.throttle, { root }).read();
    expect(reading.reasons).toEqual(["CPU-therm at 95.0 °C, at or over its 95.0 °C throttle point"]);
  });

  test("a board with no throttle signal says so", async () => {
    const root = fixtureRoot("x86-nvidia");
    const { profile } = await detectBoard({ root, runner: async () => ({ exitCode: 127, stdout: "" }) });
    expect(await createThrottleReader(profile.throttle, { root }).read()).toEqual({
      throttled: null,
      reasons: ["this board has no throttle signal"],
      source: null,
      temperatures: [],
    });
  });
});
