import { join } from "node:path";

export const CLI = join(import.meta.dir, "..", "..", "runtime", "cli", "main.ts");

/** Runs `hearth ...` as a real child process (the same Bun binary that runs the tests). */
export async function hearth(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Starts `hearth serve` in a child process and resolves once it prints its URL. */
export async function spawnServe(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, CLI, "serve", "--port", "0", ...args], {
    // Calibration is tested on its own; elsewhere it would only slow every start.
    env: { ...process.env, HEARTH_CALIBRATION_AUTO: "false", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const decoder = new TextDecoder();
  let out = "";
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + 30_000;
  while (!/at (http:\/\/\S+)\/v1/.test(out)) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${out}\n${await new Response(proc.stderr).text()}`);
    out += decoder.decode(value);
  }
  reader.releaseLock();
  const url = out.match(/at (http:\/\/\S+)\/v1/)![1]!;
  return { proc, url, api: `${url}/v1` };
}
