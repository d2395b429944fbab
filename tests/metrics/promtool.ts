/**
 * Real `promtool check metrics` (Debian package prometheus; CI installs it). A missing binary
 * fails the test with the fix, rather than skipping the validation silently.
 */
import { existsSync } from "node:fs";

export function promtoolPath(): string {
  const found = Bun.which("promtool") ?? (existsSync("/usr/bin/promtool") ? "/usr/bin/promtool" : null);
  if (!found) throw new Error("promtool not found: install the Debian package prometheus (apt-get install prometheus) to validate the /metrics scrape");
  return found;
}

/** Exit code and everything promtool printed (its lint findings); 0 and "" for a clean scrape. */
export async function promtoolCheck(scrape: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([promtoolPath(), "check", "metrics"], { stdin: new TextEncoder().encode(scrape), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: (stdout + stderr).trim() };
}
