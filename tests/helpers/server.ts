import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Llama } from "node-llama-cpp";
import { loadConfig } from "../../runtime/config/load.ts";
import { startServer, type RunningServer, type ServerDeps } from "../../runtime/server.ts";
import type { Fingerprint } from "../../runtime/identity/fingerprint-format.ts";
import { createLlama } from "../../runtime/engine/llama-binding.ts";
import { createLogger, silentLogger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { ApiKeyStore } from "../../runtime/store/api-keys.ts";
import { testModel } from "./models.ts";

let llama: Promise<Llama> | null = null;
/** One llama.cpp binding per test process; each server still loads its own model and context. */
export function sharedLlama(): Promise<Llama> {
  llama ??= createLlama(false, silentLogger);
  return llama;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  key: string;
  keyId: string;
  keys: ApiKeyStore;
  logs: string[];
  /** Base URL of the OpenAI-compatible API. */
  api: string;
}

/** A real server on an ephemeral loopback port with a temp data dir and one API key. */
/** A fixed hardware fingerprint for test servers (three components, as on a real box). */
export const TEST_FINGERPRINT: Fingerprint = {
  version: 1,
  components: [
    { kind: "board", digest: "0123456789abcdef" },
    { kind: "disk", digest: "1111222233334444" },
    { kind: "mac", digest: "aaaabbbbccccdddd" },
  ],
};

export async function startTestServer(flags: Record<string, unknown> = {}, model?: string, deps: Partial<ServerDeps> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-test-"));
  const config = loadConfig({
    // Calibration is tested on its own; here it would only slow every server start.
    flags: { dataDir, "model.path": model ?? (await testModel()), "server.port": 0, "model.contextSize": 512, "calibration.auto": false, ...flags },
  });
  const logs: string[] = [];
  const server = await startServer(config, {
    logger: createLogger({ level: "debug", write: (line) => logs.push(line) }),
    clock: systemClock,
    llama: await sharedLlama(),
    // Reading the live machine's ids takes ~0.2 s; the served behaviour does not depend on them.
    fingerprint: async () => TEST_FINGERPRINT,
    ...deps,
  });
  await server.ready;
  const keys = new ApiKeyStore(server.db, systemClock);
  const created = keys.create("test");
  return { ...server, get engine() { return server.engine; }, dataDir, key: created.key, keyId: created.id, keys, logs, api: `${server.url}/v1` };
}

/** POST JSON with the test key (or the given headers) and return status, headers and parsed body. */
export async function postJson(server: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.api}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.key}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Reads an SSE response into its `data:` payloads. */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .map((block) => block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"))
    .filter((d) => d !== "");
}
