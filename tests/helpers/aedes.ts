/**
 * The in-process aedes broker (MQTT 3.1.1 only) for tests: the stand-in for Mosquitto where it is
 * not installed (with the same four listeners), and a plain 3.1.1 broker for the tests of the
 * 3.1.1 paths wherever Mosquitto is installed too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Control, Ports, TestBroker } from "./mosquitto.ts";

/** A plain in-process aedes listener: a broker that speaks MQTT 3.1.1 only, wherever Mosquitto is installed too. */
export async function startMqtt311Broker(): Promise<{ url: string; stop(): Promise<void> }> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}

/** aedes on the same four listeners; its memory persistence outlives a restart, as Mosquitto's file does. */
export async function startAedes(dir: string, user: TestBroker["user"]): Promise<{ ports: Ports; control: Control }> {
  console.warn("tests: mosquitto is not installed; using the in-process aedes broker (MQTT 3.1.1 only)");
  const { Aedes } = await import("aedes");
  const { default: memory } = await import("aedes-persistence");
  const persistence = memory();
  const passwordSockets = new WeakSet<object>();
  const tls = { key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.crt")), ca: readFileSync(join(dir, "ca.crt")) };
  let close: (() => Promise<void>) | null = null;
  // Port 0 at first (taken at once, no race with other tests picking ports), the same ones after a restart.
  const ports: Ports = { plain: 0, tls: 0, mtls: 0, auth: 0 };
  const start = async () => {
    const broker = await Aedes.createBroker({
      persistence,
      authenticate: (client, username, password, done) => {
        const conn = (client as unknown as { conn: object }).conn;
        if (!passwordSockets.has(conn) || (username === user.username && password?.toString() === user.password)) return done(null, true);
        done(Object.assign(new Error("not authorized"), { returnCode: 5 }) as Parameters<typeof done>[0], false);
      },
    });
    const handle = (socket: Socket) => broker.handle(socket);
    const servers = [
      [createServer(handle), "plain"],
      [createTlsServer(tls, handle), "tls"],
      [createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: true }, handle), "mtls"],
      [createServer((socket) => (passwordSockets.add(socket), handle(socket))), "auth"],
    ] as const;
    await Promise.all(
      servers.map(([server, name]) => new Promise<void>((resolve) => server.listen(ports[name], "127.0.0.1", () => ((ports[name] = (server.address() as { port: number }).port), resolve())))),
    );
    close = async () => {
      // Closing the broker drops its clients, so the servers can then close.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await Promise.all(servers.map(([server]) => new Promise<void>((resolve) => server.close(() => resolve()))));
    };
  };
  const halt = async () => {
    const c = close as (() => Promise<void>) | null;
    close = null;
    await c?.();
  };
  await start();
  return { ports, control: { user, kind: "aedes", protocolVersion: 4, dir, kill: halt, restart: async () => (await halt(), await start()), stop: halt } };
}
