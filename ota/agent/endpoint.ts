/**
 * How `hearth ota check | apply | rollback` finds the running box of a data dir: the server
 * records its URL and process id in `<dataDir>/ota/runtime.json` when it listens and removes it
 * when it stops. A record whose process is gone (a SIGKILL, a power cut) is ignored.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileDurably } from "../../runtime/license/durable-write.ts";
import { otaDir } from "./lines.ts";

export interface RuntimeEndpoint {
  url: string;
  pid: number;
}

const fileOf = (dataDir: string) => join(otaDir(dataDir), "runtime.json");

export function writeEndpoint(dataDir: string, endpoint: RuntimeEndpoint): void {
  writeFileDurably(fileOf(dataDir), JSON.stringify(endpoint) + "\n");
}

/** Removes the record if it is this process's (a newer server of the same data dir keeps its own). */
export function removeEndpoint(dataDir: string, pid = process.pid): void {
  if (readEndpointFile(dataDir)?.pid === pid) rmSync(fileOf(dataDir), { force: true });
}

function readEndpointFile(dataDir: string): RuntimeEndpoint | null {
  try {
    const value = JSON.parse(readFileSync(fileOf(dataDir), "utf8")) as Partial<RuntimeEndpoint>;
    return typeof value.url === "string" && Number.isInteger(value.pid) ? { url: value.url, pid: value.pid! } : null;
  } catch {
    return null;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
};

/** The running box of this data dir, or null when none runs. */
export function runningEndpoint(dataDir: string): RuntimeEndpoint | null {
  const e = readEndpointFile(dataDir);
  return e && alive(e.pid) ? e : null;
}
