/** One download under test: a random file on a FileServer, a staging dest, deps on virtual time. */
import { join } from "node:path";
import type { DownloadDeps } from "../../../ota/agent/download.ts";
import { FileServer } from "./file-server.ts";
import { randomFile, tappedFetch, testLogger, tmp, VirtualTime } from "./helpers.ts";

const servers: FileServer[] = [];

/** For afterEach: stops the servers the fixtures started. */
export function stopServers(): void {
  for (const s of servers.splice(0)) s.stop();
}

export async function downloadFixture(size: number, opts: { time?: VirtualTime; split?: number } = {}) {
  const file = randomFile(size);
  const server = await FileServer.start(file.data);
  servers.push(server);
  const time = opts.time ?? new VirtualTime();
  const tap = tappedFetch(time, opts.split);
  const { logger, lines } = testLogger();
  const deps: DownloadDeps = { fetch: opts.split ? tap.fetch : (u, i) => fetch(u, i), clock: time, timers: time, logger, random: () => 0.5 };
  const dest = join(tmp(), "staging", "model.gguf");
  return { file, server, time, deps, dest, reads: tap.reads, lines, req: { urls: [server.url()], size, sha256: file.sha256, dest } };
}
