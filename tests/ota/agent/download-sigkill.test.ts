/**
 * A download process SIGKILLed mid-file, twice, at random points: each restart resumes from the
 * bytes on disk (Range + If-Range), re-fetches none of them, and the file verifies at the end.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { FileServer } from "./file-server.ts";
import { randomFile, removeTempDirs, sha256, tmp } from "./helpers.ts";

afterAll(removeTempDirs);

const CHILD = join(import.meta.dir, "download-child.ts");
const SIZE = 4 * 1024 * 1024;

const spawnChild = (url: string, sha256: string, dest: string) =>
  Bun.spawn([process.execPath, CHILD, url, String(SIZE), sha256, dest], { stdout: "pipe", stderr: "inherit" });

const partSize = (dest: string) => (existsSync(`${dest}.part`) ? statSync(`${dest}.part`).size : 0);

test("SIGKILL mid-download, twice: each restart resumes where the file on disk ends, and it verifies", async () => {
  const file = randomFile(SIZE);
  const server = await FileServer.start(file.data);
  const dest = join(tmp(), "staging", "model.gguf");
  try {
    // Slow enough (~4 MB/s) that a kill lands mid-file.
    for (let i = 0; i < 3; i++) server.faults.push({ drip: { bytes: 16 * 1024, delayMs: 4 } });
    const resumeAt: number[] = [];
    for (const killAt of [0.2 + Math.random() * 0.2, 0.5 + Math.random() * 0.2]) {
      const child = spawnChild(server.url(), file.sha256, dest);
      const deadline = Date.now() + 20_000;
      while (partSize(dest) < killAt * SIZE && Date.now() < deadline) await Bun.sleep(2);
      child.kill("SIGKILL");
      expect(await child.exited).not.toBe(0);
      const kept = partSize(dest);
      expect(kept).toBeGreaterThan(resumeAt.at(-1) ?? 0);
      expect(kept).toBeLessThan(SIZE);
      resumeAt.push(kept);
    }
    const last = spawnChild(server.url(), file.sha256, dest);
    const out = JSON.parse(await new Response(last.stdout).text());
    expect(await last.exited).toBe(0);
    expect(out).toMatchObject({ path: dest, resumedFrom: resumeAt[1], fetchedBytes: SIZE - resumeAt[1]!, alreadyComplete: false });
    expect(sha256(readFileSync(dest))).toBe(file.sha256);
    expect(existsSync(`${dest}.part`) || existsSync(`${dest}.part.meta`)).toBe(false);
    // Each new process asked for exactly the bytes it did not have, with the recorded ETag.
    expect(server.requests.map((r) => [r.range, r.ifRange, r.status])).toEqual([
      [null, null, 200],
      [`bytes=${resumeAt[0]}-${SIZE - 1}`, '"v1"', 206],
      [`bytes=${resumeAt[1]}-${SIZE - 1}`, '"v1"', 206],
    ]);
  } finally {
    server.stop();
  }
}, 60_000);
