import { RootFs } from "./root-fs.ts";
import type { ThrottleSpec } from "./schema.ts";
import type { CommandRunner } from "./runner.ts";
import { createSpawnRunner } from "./runner.ts";
import { listZones, readZone } from "./readers/thermal.ts";
import { celsiusText } from "./units.ts";

export interface ThrottleReading {
  /** null when no throttle signal could be read at all. */
  throttled: boolean | null;
  /** What is happening now or has happened since boot, in words. */
  reasons: string[];
  /** Where the answer came from: a file under the root, a command, or the thermal zones. */
  source: string | null;
  temperatures: { zone: string; milliCelsius: number | null }[];
}

/** Reads whether the board is throttling right now; polled by whoever watches (status LED, metrics). */
export interface ThrottleReader {
  read(): Promise<ThrottleReading>;
}

/** Bits of the Pi firmware's throttle word (documented with `vcgencmd get_throttled`). */
const PI_BITS: [bit: number, text: string, now: boolean][] = [
  [0, "under-voltage now", false],
  [1, "ARM frequency capped now", true],
  [2, "throttled now", true],
  [3, "soft temperature limit active now", true],
  [16, "under-voltage has occurred since boot", false],
  [17, "frequency capping has occurred since boot", false],
  [18, "throttling has occurred since boot", false],
  [19, "soft temperature limit has occurred since boot", false],
];

export function decodePiThrottle(word: number): { throttled: boolean; reasons: string[] } {
  const set = PI_BITS.filter(([bit]) => (word & (1 << bit)) !== 0);
  return { throttled: set.some(([, , now]) => now), reasons: set.map(([, text]) => text) };
}

/** The firmware's throttle word as the Pi kernel exposes it: soc:firmware/get_throttled (hex). */
function findThrottleFile(fs: RootFs): string | null {
  for (const soc of fs.list("/sys/devices/platform").filter((d) => d.startsWith("soc"))) {
    for (const dir of fs.list(`/sys/devices/platform/${soc}`).filter((d) => d.endsWith(":firmware"))) {
      const path = `/sys/devices/platform/${soc}/${dir}/get_throttled`;
      if (fs.exists(path)) return path;
    }
  }
  return null;
}

function temperatures(fs: RootFs, zones: readonly string[]) {
  return listZones(fs).flatMap((z) => {
    const zone = readZone(fs, z);
    return zone && zones.includes(zone.type) ? [zone] : [];
  });
}

function piReader(spec: ThrottleSpec, fs: RootFs, runner: CommandRunner | undefined): ThrottleReader {
  return {
    async read() {
      const temps = temperatures(fs, spec.zones).map((z) => ({ zone: z.type, milliCelsius: z.milliCelsius }));
      let word: number | null = null;
      let source: string | null = findThrottleFile(fs);
      if (source) word = parseInt(fs.text(source)?.trim().replace(/^0x/i, "") ?? "", 16);
      else if (runner) {
        const { exitCode, stdout } = await runner(["vcgencmd", "get_throttled"]);
        const match = /throttled=0x([0-9a-f]+)/i.exec(stdout);
        if (exitCode === 0 && match) [word, source] = [parseInt(match[1]!, 16), "vcgencmd get_throttled"];
      }
      if (word === null || Number.isNaN(word)) return { throttled: null, reasons: ["neither get_throttled in sysfs nor vcgencmd answered"], source: null, temperatures: temps };
      return { ...decodePiThrottle(word), source, temperatures: temps };
    },
  };
}

function thermalReader(spec: ThrottleSpec, fs: RootFs): ThrottleReader {
  return {
    async read() {
      const zones = temperatures(fs, spec.zones);
      const reasons: string[] = [];
      for (const z of zones) {
        const limit = z.passiveTripMilliCelsius ?? spec.limitMilliCelsius;
        if (z.milliCelsius !== null && limit !== null && z.milliCelsius >= limit) {
          reasons.push(`${z.type} at ${celsiusText(z.milliCelsius)}, at or over its ${celsiusText(limit)} throttle point`);
        }
      }
      const readable = zones.some((z) => z.milliCelsius !== null);
      return {
        throttled: readable ? reasons.length > 0 : null,
        reasons: readable ? reasons : ["none of the watched thermal zones could be read"],
        source: readable ? "/sys/class/thermal" : null,
        temperatures: zones.map((z) => ({ zone: z.type, milliCelsius: z.milliCelsius })),
      };
    },
  };
}

/**
 * The throttle reader for a profile's throttle signal. Files are read under `root` (fixtures in
 * tests); commands run through `runner`, which defaults to really running them only on the live root.
 */
export function createThrottleReader(spec: ThrottleSpec, opts: { root?: string; runner?: CommandRunner } = {}): ThrottleReader {
  const fs = new RootFs(opts.root ?? "/");
  const runner = opts.runner ?? (fs.isLive ? createSpawnRunner() : undefined);
  if (spec.signal === "vcgencmd") return piReader(spec, fs, runner);
  if (spec.signal === "thermal-zones") return thermalReader(spec, fs);
  return { read: async () => ({ throttled: null, reasons: ["this board has no throttle signal"], source: null, temperatures: [] }) };
}
