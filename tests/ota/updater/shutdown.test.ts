/**
 * A graceful stop in the middle of a download (SIGTERM, an admin restart): the download is
 * cancelled, the partial and the `downloading` state are kept, and the next start resumes from
 * the bytes on disk and commits.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { cleanUp, keep, otaFlags, releaseOnRepo, startBox, tmp } from "./fixture.ts";

afterAll(cleanUp);

test("stop mid-download keeps the partial and the state; the next start resumes it and commits", async () => {
  const { factory, repo, file } = await releaseOnRepo();
  repo.throttle = { bytesPer10ms: 8 * 1024 };
  const dataDir = tmp();
  let box = keep(await startBox(dataDir, factory, otaFlags(repo)));
  await box.ota.apply();
  const part = join(dataDir, "ota", "base", "staging", `${file.name}.part`);
  while (!existsSync(part) || statSync(part).size < file.size / 3) await Bun.sleep(5);
  await box.stop();
  const kept = statSync(part).size;
  expect(kept).toBeLessThan(file.size);
  expect(box.ota.status()).toMatchObject({ state: "downloading", release: { version: "1.1.0" } });

  repo.throttle = null;
  const asked = repo.requests.length;
  box = keep(await startBox(dataDir, factory, otaFlags(repo)));
  while (box.ota.status().state !== "committed") {
    expect(box.ota.status().state).not.toBe("failed");
    await Bun.sleep(10);
  }
  const resumed = repo.requests.slice(asked).find((r) => r.path.startsWith("/files/"));
  expect(resumed?.range).toBe(`bytes=${kept}-${file.size - 1}`);
  expect(box.engine.model.path).toBe(box.ota.lines.base.current().active!.path);
}, 60_000);
