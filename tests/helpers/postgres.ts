/**
 * A real PostgreSQL server for tests: initdb into a temp dir, a free loopback port, the unix socket in
 * the temp dir, trust authentication, no fsync (tests check logic, not the disk). PostgreSQL refuses
 * to run as root, so as root the server runs as the `postgres` user (else `nobody`) with the temp
 * dir handed to it. Nothing is skipped: without the binaries (CI installs the Debian `postgresql`
 * package) starting fails with a message that says so.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir, userInfo } from "node:os";
import { SQL } from "bun";
import { freePort } from "./mosquitto.ts";

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dir: string;
  /** A new, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Where Debian (`/usr/lib/postgresql/<ver>/bin`, newest first) and local builds put the server. */
export function findPostgresBin(): string | null {
  const dirs = ["/usr/local/bin", "/usr/local/pgsql/bin", "/usr/bin"];
  if (existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    dirs.unshift(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  for (const p of (process.env.PATH ?? "").split(":")) if (p) dirs.push(p);
  return dirs.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "postgres"))) ?? null;
}

/** The uid/gid to run as: ourselves, or a system user when we are root (initdb refuses root). */
function runAs(): { prefix: string[]; uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { prefix: [], uid: -1, gid: -1 };
  for (const name of ["postgres", "nobody"]) {
    const r = Bun.spawnSync(["id", "-u", name], { stdout: "pipe", stderr: "ignore" });
    if (r.exitCode !== 0) continue;
    const uid = Number(r.stdout.toString().trim());
    const gid = Number(Bun.spawnSync(["id", "-g", name], { stdout: "pipe" }).stdout.toString().trim());
    // setpriv execs in place, so the child we spawn is postgres itself and signals reach it.
    return { prefix: ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"], uid, gid };
  }
  throw new Error("tests: running as root and no postgres or nobody user to run PostgreSQL as");
}

async function waitReady(url: string, proc: ReturnType<typeof Bun.spawn>, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sql = new SQL(url, { max: 1, connectionTimeout: 2 });
    try {
      await sql`SELECT 1`;
      return;
    } catch (err) {
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}:\n${log()}`);
      if (Date.now() > deadline) throw new Error(`postgres not ready after ${timeoutMs} ms (${(err as Error).message}):\n${log()}`);
      await Bun.sleep(50);
    } finally {
      await sql.close({ timeout: 0 }).catch(() => {});
    }
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new Error(
      "tests: PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, /usr/local/bin or PATH; install the Debian `postgresql` package (.ci/run does)",
    );
  }
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), "hearth-pg-"));
  if (user.uid >= 0) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  const init = Bun.spawnSync([...user.prefix, join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, LC_ALL: "C" },
  });
  if (init.exitCode !== 0) throw new Error(`initdb failed (as ${user.uid >= 0 ? `uid ${user.uid}` : userInfo().username}): ${init.stderr.toString()}`);

  const port = await freePort();
  const logFile = join(dir, "postgres.log");
  const server = [
    ...user.prefix,
    join(bin, "postgres"),
    ...["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir],
    ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
  ];
  // A test process that dies without stop() must not leave a server behind: the shell stops
  // postgres when our end of its stdin closes, and exits when postgres does.
  const proc = Bun.spawn(["sh", "-c", 'exec 3<&0; "$@" & pid=$!; (read _ <&3; kill -INT $pid) & wait $pid', "sh", ...server], {
    stdin: "pipe",
    stdout: "ignore",
    stderr: Bun.file(logFile),
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "");
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(url, proc, log);

  let databases = 0;
  return {
    url,
    port,
    dir,
    async createDatabase(name = `t${process.pid}_${++databases}_${Math.random().toString(36).slice(2, 8)}`) {
      const admin = new SQL(url, { max: 1 });
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.close();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      // Closing stdin makes the shell send SIGINT: a fast shutdown that ends open sessions.
      proc.stdin.end();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
