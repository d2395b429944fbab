/**
 * A TCP proxy in front of the broker, so a test can cut one box's connection the way a network
 * does (no DISCONNECT: the broker publishes the Last Will) while the broker keeps running.
 */
import { createConnection, createServer, type Socket } from "node:net";
import { freePort } from "../helpers/mosquitto.ts";

export interface Proxy {
  url: string;
  /** Destroys every proxied connection at once. */
  cut(): void;
  /** While true, new connections are dropped as soon as they open (the broker seems unreachable). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port: targetPort } = new URL(target);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: hostname, port: Number(targetPort) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    refuse: (on) => {
      refusing = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
