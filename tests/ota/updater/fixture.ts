/**
 * A fleet and a box for updater tests: a real repository written by the publisher (ota/publish),
 * served over loopback by the repository server with a request log (and, for crash tests, a
 * throttle on release files), and boxes started on it with real SQLite data dirs.
 */
import { join } from "node:path";
import { systemClock } from "../../../runtime/clock.ts";
import { generateEd25519, signerFromPem } from "../../../runtime/crypto/ed25519.ts";
import type { ServerDeps } from "../../../runtime/server.ts";
import type { SigningKey } from "../../../ota/publish/keys.ts";
import { publishRelease, type Published } from "../../../ota/publish/publish.ts";
import { initRoot } from "../../../ota/publish/root.ts";
import { createRepoApp } from "../../../ota/repo-server.ts";
import type { BaseRequirement } from "../../../ota/schema/manifest.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";
import { testModel } from "../../helpers/models.ts";
import { tempDirs } from "../../helpers/temp-dirs.ts";

const temp = tempDirs("hearth-ota-upd-");
export const tmp = (prefix?: string): string => temp.make(prefix);
export const removeTempDirs = temp.removeAll;

export interface LoggedRequest {
  path: string;
  range: string | null;
  status: number;
}

export interface TestRepo {
  dir: string;
  url: string;
  /** What a box pins (config ota.releaseKeys). */
  pinned: { keyId: string; publicKey: string }[];
  key: SigningKey;
  requests: LoggedRequest[];
  /** Release files are sent at most this many bytes per 10 ms (null: at full speed). */
  throttle: { bytesPer10ms: number } | null;
  publish(file: string, opts: { version: string; name?: string; kind?: "base-model" | "lora"; base?: BaseRequirement; files?: string[] }): Promise<Published>;
  stop(): void;
}

/** Re-streams a body in pieces of at most `bytes`, one per 10 ms. */
function throttled(body: ReadableStream<Uint8Array>, bytes: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let rest: Uint8Array | null = null;
  return new ReadableStream({
    async pull(c) {
      if (!rest || rest.byteLength === 0) {
        const { value, done } = await reader.read();
        if (done) return c.close();
        rest = value;
      }
      await Bun.sleep(10);
      c.enqueue(rest.slice(0, bytes));
      rest = rest.subarray(Math.min(bytes, rest.byteLength));
    },
    cancel: (r) => reader.cancel(r),
  });
}

export async function testRepo(): Promise<TestRepo> {
  const dir = join(tmp(), "repo");
  const signer = signerFromPem(generateEd25519().privateKeyPem);
  const key = { keyId: "fleet-test-release", publicKey: signer.publicKey, signer };
  const role = { keys: [key], threshold: 1 };
  await initRoot(dir, { root: role, release: role, index: role, expiresDays: 365 }, systemClock);
  const app = createRepoApp(dir);
  const requests: LoggedRequest[] = [];
  const repo: TestRepo = {
    dir,
    url: "",
    pinned: [{ keyId: key.keyId, publicKey: key.publicKey }],
    key,
    requests,
    throttle: null,
    publish: (file, o) =>
      publishRelease(
        {
          repo: dir,
          files: o.files ?? [file],
          kind: o.kind ?? "base-model",
          name: o.name ?? "demo",
          version: o.version,
          channel: "stable",
          base: o.base,
          entitlement: o.kind === "lora" ? "lora_adapters" : undefined,
          minRuntimeVersion: "0.0.0",
          rollout: { percent: 100, groups: [] },
          expiresDays: 30,
          keys: [key],
        },
        systemClock,
      ),
    stop: () => void server.stop(true),
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const res = await app.fetch(req);
      const path = new URL(req.url).pathname;
      requests.push({ path, range: req.headers.get("range"), status: res.status });
      if (repo.throttle && res.body && path.startsWith("/files/")) {
        return new Response(throttled(res.body, repo.throttle.bytesPer10ms), { status: res.status, headers: res.headers });
      }
      return res;
    },
  });
  repo.url = `http://127.0.0.1:${server.port}`;
  return repo;
}

/** Config flags that point a box at `repo`, checking only on demand. */
export const otaFlags = (repo: TestRepo, extra: Record<string, unknown> = {}) => ({
  "ota.repo": repo.url,
  "ota.releaseKeys": repo.pinned,
  "ota.channel": "stable",
  "ota.checkIntervalMinutes": 0,
  "ota.diskMarginMB": 0,
  ...extra,
});

/** A real server (startTestServer) on `dataDir`, which outlives it: a restart finds the same box. */
export async function startBox(dataDir: string, model: string, flags: Record<string, unknown>, deps: Partial<ServerDeps> = {}): Promise<TestServer> {
  const server = await startTestServer({ dataDir, "model.contextSize": 256, ...flags }, model, {
    ...deps,
    ota: { seams: { backoff: { minMs: 5, maxMs: 20 }, progressIntervalMs: 50 }, ...deps.ota },
  });
  return Object.assign(server, { dataDir }); // startTestServer reports the temp dir it would have used
}

/** One completion through the API; returns the model id that answered. */
export async function complete(box: TestServer): Promise<{ status: number; model: string | null; text: string }> {
  const res = await fetch(`${box.api}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${box.key}` },
    body: JSON.stringify({ model: box.engine.model.id, prompt: "The clinic opens at", max_tokens: 4, temperature: 0 }),
  });
  const json = (await res.json().catch(() => null)) as { model?: string; choices?: { text: string }[] } | null;
  return { status: res.status, model: json?.model ?? null, text: json?.choices?.[0]?.text ?? "" };
}

const running: { stop(): unknown }[] = [];

/** Registers a box or repository for cleanUp(). */
export function keep<T extends { stop(): unknown }>(x: T): T {
  running.push(x);
  return x;
}

/** For afterAll: stops what keep() registered (the latest first) and removes the temp dirs. */
export async function cleanUp(): Promise<void> {
  for (const x of running.splice(0).reverse()) await x.stop();
  removeTempDirs();
}

/** The factory model (seed 1) and demo 1.1.0 (seed 2) published on a new repository. */
export async function releaseOnRepo() {
  const [factory, next] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 })]);
  const repo = keep(await testRepo());
  const { manifest } = await repo.publish(next, { version: "1.1.0" });
  return { factory, next, repo, file: manifest.files[0]! };
}
