/** Runs a command and returns its exit code and output; never throws (a missing program is exit 127). */
export type CommandRunner = (argv: readonly string[]) => Promise<{ exitCode: number; stdout: string }>;

/**
 * The real runner, for the live machine. A timeout bounds it because vcgencmd and nvidia-smi can
 * hang when the firmware or driver is wedged, and detection must still answer.
 */
export function createSpawnRunner(timeoutMs = 5000): CommandRunner {
  return async (argv) => {
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      proc = Bun.spawn([...argv], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    } catch {
      return { exitCode: 127, stdout: "" };
    }
    const timer = setTimeout(() => proc.kill(), timeoutMs);
    try {
      const [stdout, exitCode] = await Promise.all([new Response(proc.stdout as ReadableStream).text(), proc.exited]);
      return { exitCode, stdout };
    } catch {
      return { exitCode: 1, stdout: "" };
    } finally {
      clearTimeout(timer);
    }
  };
}
