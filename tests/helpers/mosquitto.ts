/**
 * A real Mosquitto broker for tests, on free loopback ports, with a generated config: a plain
 * listener, a TLS listener (a CA and server certificate generated with openssl), a TLS listener
 * that requires a client certificate signed by that CA, and a password-protected listener.
 * Persistence is on (a restart keeps sessions and queued messages); saving after every change is
 * opt-in (`saveEveryChange`), for tests that SIGKILL the broker, since it slows the broker to
 * about 700 messages a second. Where the mosquitto binary is missing outside CI (CI installs it),
 * the in-process aedes broker (MQTT 3.1.1) stands in, with the same listeners, with a warning;
 * in CI a missing binary fails the test.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { startAedes } from "./aedes.ts";

/** HEARTH_TEST_BROKER=aedes forces the fallback, to check it where mosquitto is installed. */
const MOSQUITTO =
  process.env.HEARTH_TEST_BROKER === "aedes" ? null : (["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p)) ?? null);

/** What startBroker() starts here; aedes has no shared subscriptions (MQTT 5). */
export const BROKER_KIND: "mosquitto" | "aedes" = MOSQUITTO ? "mosquitto" : "aedes";

export interface BrokerOptions {
  /** Save after every change, so a SIGKILLed broker keeps all it acknowledged (slow: only for tests that kill it). */
  saveEveryChange?: boolean;
}

export interface TestBroker {
  /** mqtt://127.0.0.1:<port>, anonymous. */
  url: string;
  /** mqtts://localhost:<port>, server certificate signed by `caFile`. */
  tlsUrl: string;
  caFile: string;
  /** mqtts://localhost:<port> that refuses a client without a certificate signed by `caFile`. */
  mtlsUrl: string;
  clientCert: { certFile: string; keyFile: string };
  /** mqtt://127.0.0.1:<port> requiring `user`/`password`. */
  authUrl: string;
  user: { username: string; password: string };
  kind: "mosquitto" | "aedes";
  /** The newest MQTT version it speaks: aedes knows 3.1.1 (4) only, so clients must fall back. */
  protocolVersion: 5 | 4;
  dir: string;
  /** SIGKILL: no goodbye to clients, nothing saved beyond what was saved already (aedes: closed, its memory kept). */
  kill(): Promise<void>;
  /** Starts it again on the same ports with the same persistence. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** For tests that need Mosquitto itself (a broker process to SIGKILL, MQTT 5 shared subscriptions): a clear failure on the fallback. */
export function requireMosquitto(broker: TestBroker, why: string): void {
  if (broker.kind !== "mosquitto") {
    throw new Error(`this test needs Mosquitto (${why}), and the aedes fallback cannot stand in: install the Debian package mosquitto (CI installs it)`);
  }
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

/** A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, valid for a day. */
function makeCertificates(dir: string): void {
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const sign = (name: string, extra: string[] = []) =>
    run(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", ...extra, "-out", `${name}.crt`], dir);
  run(["openssl", "req", "-x509", ...key, "-days", "1", "-subj", "/CN=hearth-test-ca", "-keyout", "ca.key", "-out", "ca.crt"], dir);
  run(["openssl", "req", ...key, "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"], dir);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  sign("server", ["-extfile", "san.ext"]);
  run(["openssl", "req", ...key, "-subj", "/CN=hearth-test-box", "-keyout", "client.key", "-out", "client.csr"], dir);
  sign("client");
}

export async function startBroker(opts: BrokerOptions = {}): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-broker-"));
  const user = { username: "box", password: "correct horse battery staple" };
  makeCertificates(dir);
  const files = { caFile: join(dir, "ca.crt"), clientCert: { certFile: join(dir, "client.crt"), keyFile: join(dir, "client.key") } };
  const urls = (ports: Ports) => ({
    url: `mqtt://127.0.0.1:${ports.plain}`,
    tlsUrl: `mqtts://localhost:${ports.tls}`,
    mtlsUrl: `mqtts://localhost:${ports.mtls}`,
    authUrl: `mqtt://127.0.0.1:${ports.auth}`,
  });
  if (!MOSQUITTO) {
    if (process.env.CI) throw new Error("tests: mosquitto is not installed, and CI must test against it (.ci/run installs the Debian package)");
    const aedes = await startAedes(dir, user);
    return { ...urls(aedes.ports), ...files, ...aedes.control };
  }
  let ports = await distinctFreePorts();

  run(["mosquitto_passwd", "-b", "-c", join(dir, "passwd"), user.username, user.password], dir);
  const tls = [`cafile ${files.caFile}`, `certfile ${join(dir, "server.crt")}`, `keyfile ${join(dir, "server.key")}`];
  const configFor = (ports: Ports) => [
    // Started as root, mosquitto switches to its own user, which cannot read this private temp dir.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    "per_listener_settings true",
    "persistence true",
    `persistence_location ${dir}/`,
    // Saved at a clean stop (restart() stops cleanly); after every change only when asked.
    ...(opts.saveEveryChange ? ["autosave_interval 1", "autosave_on_changes true"] : ["autosave_interval 3600"]),
    "max_queued_messages 1000000",
    "max_inflight_messages 0",
    `log_dest file ${join(dir, "mosquitto.log")}`,
    "log_type error",
    "log_type warning",
    `listener ${ports.plain} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${ports.tls} 127.0.0.1`,
    "allow_anonymous true",
    ...tls,
    `listener ${ports.mtls} 127.0.0.1`,
    "allow_anonymous true",
    ...tls,
    "require_certificate true",
    `listener ${ports.auth} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${join(dir, "passwd")}`,
  ];
  const writeConfig = () => writeFileSync(join(dir, "mosquitto.conf"), configFor(ports).join("\n") + "\n");

  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const start = async () => {
    const spawned = Bun.spawn([MOSQUITTO, "-c", join(dir, "mosquitto.conf")], { stdout: "ignore", stderr: "pipe" });
    proc = spawned;
    try {
      // A broker that cannot bind exits at once; that is not worth waiting for the ports.
      const exited = spawned.exited.then((code) => Promise.reject(new Error(`mosquitto exited with code ${code}`)));
      await Promise.race([Promise.all(Object.values(ports).map((p) => waitForPort(p))), exited]);
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
  // A free port may be taken by another test process between choosing it and mosquitto binding it.
  for (let attempt = 1; ; attempt++) {
    writeConfig();
    try {
      await start();
      break;
    } catch (err) {
      await halt("SIGKILL");
      if (attempt >= 3 || !String((err as Error).message).includes("Address already in use")) throw err;
      ports = await distinctFreePorts();
    }
  }
  return {
    ...urls(ports),
    ...files,
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

export type Ports = { plain: number; tls: number; mtls: number; auth: number };

async function distinctFreePorts(): Promise<Ports> {
  const chosen = new Set<number>();
  while (chosen.size < 4) chosen.add(await freePort());
  const [plain, tls, mtls, auth] = [...chosen] as [number, number, number, number];
  return { plain, tls, mtls, auth };
}
export type Control = Pick<TestBroker, "user" | "kind" | "protocolVersion" | "dir" | "kill" | "restart" | "stop">;
