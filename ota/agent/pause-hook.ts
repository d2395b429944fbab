/**
 * Crash tests' seam: with NODE_ENV=test and HEARTH_OTA_PAUSE_AT=<point>[,<point>...], an install
 * that reaches one of those points (install.ts INSTALL_POINTS) writes the point to
 * `<dataDir>/ota/paused-at` and stops there for good, while the box keeps serving: a test then
 * SIGKILLs the process at exactly that point, as a power cut would stop it. Without both
 * variables it does nothing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { INSTALL_POINTS, type InstallPoint } from "./install-points.ts";
import { otaDir } from "./lines.ts";

export const PAUSED_AT_FILE = "paused-at";

export function pauseHookFromEnv(env: Record<string, string | undefined>, dataDir: string): ((point: InstallPoint) => Promise<void>) | undefined {
  const wanted = env.HEARTH_OTA_PAUSE_AT;
  if (env.NODE_ENV !== "test" || !wanted) return undefined;
  const points = new Set(wanted.split(",").map((p) => p.trim()));
  const unknown = [...points].filter((p) => !(INSTALL_POINTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`HEARTH_OTA_PAUSE_AT: unknown point(s) ${unknown.join(", ")} (known: ${INSTALL_POINTS.join(", ")})`);
  return async (point) => {
    if (!points.has(point)) return;
    writeFileSync(join(otaDir(dataDir), PAUSED_AT_FILE), point);
    await new Promise<never>(() => {}); // until the test kills the process
  };
}
