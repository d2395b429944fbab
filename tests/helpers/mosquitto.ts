/**
 * A real Mosquitto broker for tests, on free loopback ports, with a generated config: a plain
 * listener, a TLS listener (a CA and server certificate generated with openssl) and a
 * password-protected listener. Persistence is on and saved after every change, so a broker killed
 * and restarted keeps what it had acknowledged. Where the mosquitto binary is missing (outside CI,
 * which installs it), the in-process aedes broker stands in for the plain listener, with a warning.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { createServer } from "node:net";

/** HEARTH_TEST_BROKER=aedes forces the fallback, to check it where mosquitto is installed. */
const MOSQUITTO =
  process.env.HEARTH_TEST_BROKER === "aedes" ? null : (["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p)) ?? null);

export interface TestBroker {
  /** mqtt://127.0.0.1:<port>, anonymous. */
  url: string;
  /** mqtts://localhost:<port>, server certificate signed by `caFile`; null on the aedes fallback. */
  tlsUrl: string | null;
  caFile: string | null;
  /** mqtt://127.0.0.1:<port> requiring `user`/`password`; null on the aedes fallback. */
  authUrl: string | null;
  user: { username: string; password: string };
  kind: "mosquitto" | "aedes";
  /** The newest MQTT version it speaks: aedes knows 3.1.1 (4) only, so clients must fall back. */
  protocolVersion: 5 | 4;
  dir: string;
  /** SIGKILL: no goodbye to clients, nothing saved beyond what autosave already wrote. */
  kill(): Promise<void>;
  /** Starts it again on the same ports with the same persistence. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
  }
}

function run(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
}

/** A CA and a server certificate for localhost / 127.0.0.1, valid for a day. */
function makeCertificates(dir: string): void {
  run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=hearth-test-ca", "-keyout", "ca.key", "-out", "ca.crt"], dir);
  run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"], dir);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt"], dir);
}

export async function startBroker(): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-broker-"));
  const user = { username: "box", password: "correct horse battery staple" };
  if (!MOSQUITTO) return startAedes(dir, user);

  const [port, tlsPort, authPort] = [await freePort(), await freePort(), await freePort()];
  makeCertificates(dir);
  run(["mosquitto_passwd", "-b", "-c", join(dir, "passwd"), user.username, user.password], dir);
  const config = [
    // Started as root, mosquitto switches to its own user, which cannot read this private temp dir.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    "per_listener_settings true",
    "persistence true",
    `persistence_location ${dir}/`,
    "autosave_interval 1",
    "autosave_on_changes true",
    "max_queued_messages 1000000",
    "max_inflight_messages 0",
    `log_dest file ${join(dir, "mosquitto.log")}`,
    "log_type error",
    "log_type warning",
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${tlsPort} 127.0.0.1`,
    "allow_anonymous true",
    `cafile ${join(dir, "ca.crt")}`,
    `certfile ${join(dir, "server.crt")}`,
    `keyfile ${join(dir, "server.key")}`,
    `listener ${authPort} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${join(dir, "passwd")}`,
  ];
  writeFileSync(join(dir, "mosquitto.conf"), config.join("\n") + "\n");

  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const start = async () => {
    proc = Bun.spawn([MOSQUITTO, "-c", join(dir, "mosquitto.conf")], { stdout: "ignore", stderr: "pipe" });
    try {
      await Promise.all([waitForPort(port), waitForPort(tlsPort), waitForPort(authPort)]);
    } catch (err) {
      const log = existsSync(join(dir, "mosquitto.log")) ? readFileSync(join(dir, "mosquitto.log"), "utf8") : "";
      throw new Error(`mosquitto did not start: ${(err as Error).message}\n${log}`);
    }
  };
  const halt = async (signal: "SIGKILL" | "SIGTERM") => {
    const p = proc as ReturnType<typeof Bun.spawn> | null;
    proc = null;
    if (!p) return;
    p.kill(signal);
    await p.exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    tlsUrl: `mqtts://localhost:${tlsPort}`,
    caFile: join(dir, "ca.crt"),
    authUrl: `mqtt://127.0.0.1:${authPort}`,
    user,
    kind: "mosquitto",
    protocolVersion: 5,
    dir,
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGTERM");
      await start();
    },
    stop: () => halt("SIGTERM"),
  };
}

async function startAedes(dir: string, user: TestBroker["user"]): Promise<TestBroker> {
  console.warn("tests: mosquitto is not installed; using the in-process aedes broker (MQTT 3.1.1 only, no TLS or password listener)");
  const { Aedes } = await import("aedes");
  const port = await freePort();
  let close: (() => Promise<void>) | null = null;
  const start = async () => {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    close = () =>
      new Promise<void>((resolve) => {
        // Closing the broker drops its clients, so the server can then close.
        broker.close(() => server.close(() => resolve()));
      });
  };
  const halt = async () => {
    const c = close as (() => Promise<void>) | null;
    close = null;
    await c?.();
  };
  await start();
  return { url: `mqtt://127.0.0.1:${port}`, tlsUrl: null, caFile: null, authUrl: null, user, kind: "aedes", protocolVersion: 4, dir, kill: halt, restart: async () => (await halt(), await start()), stop: halt };
}
