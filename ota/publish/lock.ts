/**
 * One publisher at a time per repository: two concurrent publishes would both take index version
 * N+1 and the second rename would silently drop the first's release. A lock file holding the pid;
 * one left by a process that is gone is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { hasErrno, HearthError } from "../../runtime/errors.ts";

const LOCK_FILE = ".publish.lock";

function holderAlive(path: string): number | null {
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return hasErrno(err, "EPERM") ? pid : null; // EPERM: alive, another user's
  }
}

function acquire(path: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if (hasErrno(err, "ENOENT")) throw new HearthError("invalid_request", `the repository ${dirname(path)} does not exist`, { field: "repo" });
      if (!hasErrno(err, "EEXIST")) throw err;
      const pid = holderAlive(path);
      if (pid !== null) throw new HearthError("conflict", `another publisher (pid ${pid}) is changing this repository (${path}); try again when it is done`, { field: "repo" });
      rmSync(path, { force: true });
    }
  }
  throw new HearthError("conflict", `cannot take the repository lock ${path}`, { field: "repo" });
}

export async function withRepoLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK_FILE);
  acquire(path);
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
