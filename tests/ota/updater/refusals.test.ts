/**
 * The attack and fault matrix through the real agent on a real server: the box has demo 1.1.0
 * installed by an update; each case offers 1.2.0 (or something worse) from a repository and a
 * raw-TCP file server that misbehaves on request. Every case is refused with its reason, the
 * installed model keeps serving, and nothing is left behind: for the documents' attacks nothing
 * is even fetched or written; for the download faults the partial is cleaned up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { testModel } from "../../helpers/models.ts";
import type { TestServer } from "../../helpers/server.ts";
import { generateEd25519, signerFromPem } from "../../../runtime/crypto/ed25519.ts";
import { FileServer } from "../agent/file-server.ts";
import { currentIndexVersion, manifestDoc, writeRelease, type FileRef, type WriteOptions } from "./documents.ts";
import { complete, otaFlags, removeTempDirs, startBox, testRepo, tmp, type TestRepo } from "./fixture.ts";

const stranger = (() => {
  const signer = signerFromPem(generateEd25519().privateKeyPem);
  return { keyId: "fleet-test-release", signer }; // the release key's id, another key's signature
})();
const DAY = 86_400_000;
const past = () => new Date(Date.now() - DAY).toISOString();

let repo: TestRepo;
let files: FileServer;
let box: TestServer;
let next: FileRef;
let nextBytes: Uint8Array;
let diskFree = Number.MAX_SAFE_INTEGER;
let installedPath: string;

beforeAll(async () => {
  const [factory, v110, v120] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 }), testModel({ seed: 3 })]);
  repo = await testRepo();
  await repo.publish(v110, { version: "1.1.0" });
  nextBytes = new Uint8Array(readFileSync(v120));
  files = await FileServer.start(nextBytes);
  next = { name: "demo-1.2.0.gguf", size: nextBytes.byteLength, sha256: files.sha256, urls: [files.url()] };
  const statfs = async () => ({ bavail: diskFree, bsize: 1 });
  box = await startBox(tmp(), factory, otaFlags(repo), { ota: { seams: { statfs, stallTimeoutMs: 300, maxAttempts: 2, backoff: { minMs: 5, maxMs: 10 }, progressIntervalMs: 50 } } });
  await box.ota.apply();
  expect((await box.ota.settled()).state).toBe("committed");
  installedPath = box.engine.model.path;
}, 60_000);

afterAll(async () => {
  await box?.stop();
  files?.stop();
  repo?.stop();
  removeTempDirs();
});

const hashOf = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

interface Case {
  name: string;
  code: string;
  /** Writes the documents / arms the file server. */
  arrange(): void;
  /** The refusal comes from the documents: the file server is never asked and nothing is staged. */
  beforeDownload: boolean;
}

const offer = (manifestOver: Record<string, unknown> = {}, o: WriteOptions = {}, file: Partial<FileRef> = {}) =>
  writeRelease(repo, manifestDoc((manifestOver.version as string) ?? "1.2.0", { ...next, ...file }, manifestOver), o);

const CASES: Case[] = [
  // The documents: refused before anything is fetched or written.
  { name: "an unsigned index", code: "insufficient_signatures", beforeDownload: true, arrange: () => offer({}, { indexKeys: [] }) },
  { name: "a manifest signed by the wrong key", code: "insufficient_signatures", beforeDownload: true, arrange: () => offer({}, { manifestKeys: [stranger] }) },
  { name: "an expired index (freeze)", code: "index_expired", beforeDownload: true, arrange: () => offer({}, { index: { expiresAt: past() } }) },
  { name: "an expired manifest", code: "manifest_expired", beforeDownload: true, arrange: () => offer({ expiresAt: past() }) },
  { name: "an index older than one accepted (rollback)", code: "index_rollback", beforeDownload: true, arrange: () => offer({}, { index: { version: currentIndexVersion(repo) - 1 } }) },
  { name: "a release older than the installed one", code: "older_than_installed", beforeDownload: true, arrange: () => offer({ version: "1.0.5" }) },
  { name: "a release for another channel", code: "wrong_channel", beforeDownload: true, arrange: () => offer({ channel: "beta" }) },
  { name: "an index entry naming another version than its manifest", code: "manifest_mismatch", beforeDownload: true, arrange: () => offer({}, { entry: { version: "1.3.0" } }) },
  { name: "an index pinning other manifest bytes", code: "manifest_mismatch", beforeDownload: true, arrange: () => offer({}, { entry: { sha256: "0".repeat(64) } }) },
  { name: "path traversal in a file name", code: "malformed", beforeDownload: true, arrange: () => offer({}, {}, { name: "../../hearth.db" }) },
  { name: "a file: URL", code: "malformed", beforeDownload: true, arrange: () => offer({}, {}, { urls: ["file:///etc/passwd"] }) },
  { name: "an http URL with credentials (the only one)", code: "bad_url", beforeDownload: true, arrange: () => offer({}, {}, { urls: [files.url().replace("://", "://user:pw@")] }) },
  { name: "a disk too small for the file", code: "no_space", beforeDownload: true, arrange: () => ((diskFree = 1000), offer()) },
  // The download: refused with the reason, the partial removed.
  { name: "a flipped byte", code: "hash_mismatch", beforeDownload: false, arrange: () => ((files.data = flipped(nextBytes)), offer()) },
  { name: "a truncated file", code: "size_mismatch", beforeDownload: false, arrange: () => ((files.data = nextBytes.subarray(0, nextBytes.byteLength - 100)), offer()) },
  { name: "more bytes than declared (Content-Length)", code: "too_many_bytes", beforeDownload: false, arrange: () => (files.faults.push({ declareExtra: 4096 }), offer()) },
  { name: "more bytes than declared (endless body)", code: "too_many_bytes", beforeDownload: false, arrange: () => (files.faults.push({ extra: "endless" }), offer()) },
  { name: "a wrong Content-Range on resume", code: "bad_content_range", beforeDownload: false, arrange: () => (files.faults.push({ dropAfter: 64 * 1024 }, { contentRange: `bytes 0-99/${nextBytes.byteLength}` }), offer()) },
  { name: "a server that stalls", code: "stalled", beforeDownload: false, arrange: () => (files.faults.push({ stallAfter: 0 }, { stallAfter: 0 }, { stallAfter: 0 }), offer()) },
];

function flipped(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[Math.floor(copy.byteLength / 2)]! ^= 0x01;
  return copy;
}

describe("refused, the installed model serving, nothing left behind", () => {
  for (const c of CASES) {
    test(`${c.name} → ${c.code}`, async () => {
      files.data = nextBytes;
      files.faults.length = 0;
      diskFree = Number.MAX_SAFE_INTEGER;
      c.arrange();
      const asked = files.requests.length;
      const generation = box.ota.lines.base.current().generation;

      await box.ota.apply();
      const record = await box.ota.settled();
      expect(record.state).toBe("failed");
      expect(record.reason?.code).toBe(c.code);

      expect(box.engine.model.path).toBe(installedPath);
      expect(hashOf(installedPath)).toBe(box.ota.lines.base.current().active!.release.sha256);
      expect((await complete(box)).status).toBe(200);
      const slots = box.ota.lines.base.current();
      expect(slots).toMatchObject({ phase: "idle", staging: null, active: { release: { version: "1.1.0" } } });
      expect(readdirSync(box.ota.lines.base.stagingDir)).toEqual([]);
      if (c.beforeDownload) {
        expect(files.requests.length).toBe(asked);
        if (c.code !== "no_space") expect(slots.generation).toBe(generation);
      } else {
        expect(files.requests.length).toBeGreaterThan(asked);
      }
    }, 30_000);
  }
});
