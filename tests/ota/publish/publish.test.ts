/** The publisher's library: what it refuses before hashing, how files land in the repository, the lock. */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readKeyArg, signingKeys, type SigningKey } from "../../../ota/publish/keys.ts";
import { withRepoLock } from "../../../ota/publish/lock.ts";
import { placeFile } from "../../../ota/publish/place-file.ts";
import { publishRelease, type PublishRequest } from "../../../ota/publish/publish.ts";
import { initRoot } from "../../../ota/publish/root.ts";
import { refreshRepo, setRollout } from "../../../ota/publish/rollout.ts";
import { readRepo } from "../../../ota/publish/repo-state.ts";
import { generateFleetKeyPair } from "../../../runtime/fleet/commands/keyfile.ts";
import { isHearthError } from "../../../runtime/errors.ts";
import { testModel } from "../../helpers/models.ts";
import { manualClock } from "../../license/helpers.ts";
import { NOW, tmp } from "../helpers.ts";

/** A repository with root 1 (one key for every role) and that key's signer. */
async function freshRepo(): Promise<{ repo: string; keys: SigningKey[] }> {
  const dir = tmp("hearth-ota-pub-");
  generateFleetKeyPair(join(dir, "key"));
  const key = readKeyArg(join(dir, "key"), "keys");
  const role = { keys: [key], threshold: 1 };
  await initRoot(join(dir, "repo"), { root: role, release: role, index: role, expiresDays: 365 }, manualClock(NOW));
  return { repo: join(dir, "repo"), keys: signingKeys([key], "key") };
}

const request = async (repo: string, keys: SigningKey[], over: Partial<PublishRequest> = {}): Promise<PublishRequest> => ({
  repo,
  files: [await testModel()],
  kind: "base-model",
  name: "demo",
  version: "1.0.0",
  channel: "stable",
  minRuntimeVersion: "0.0.0",
  rollout: { percent: 100, groups: [] },
  expiresDays: 30,
  keys,
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isHearthError(err)) return { code: err.code, field: err.field, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("publishRelease", () => {
  test("bad requests are refused naming the field, before any file is hashed or written", async () => {
    const { repo, keys } = await freshRepo();
    const notGguf = join(tmp(), "notes.gguf");
    writeFileSync(notGguf, "hello");
    const cases: [Partial<PublishRequest>, string, string][] = [
      [{ version: "1.0" }, "invalid_request", "version"],
      [{ name: "Demo Model" }, "invalid_request", "name"],
      [{ channel: "../x" }, "invalid_request", "channel"],
      [{ rollout: { percent: 101, groups: [] } }, "invalid_request", "rollout.percent"],
      [{ kind: "lora" }, "invalid_request", "base"],
      [{ base: { name: "demo", versions: "^1.0.0" } }, "invalid_request", "base"],
      [{ kind: "lora", base: { name: "demo", versions: "latest" } }, "invalid_request", "base"],
      [{ files: [] }, "invalid_request", "files"],
      [{ files: [join(tmp(), ".hidden.gguf")] }, "invalid_request", "files"],
      [{ urlBase: "ftp://mirror.example" }, "invalid_request", "url-base"],
      [{ keys: [] }, "invalid_request", "key"],
      [{ files: [notGguf] }, "gguf_invalid", ""],
    ];
    for (const [over, code, field] of cases) {
      const r = await refusal(publishRelease(await request(repo, keys, over), manualClock(NOW)));
      expect([over, r.code, r.field ?? ""]).toEqual([over, code, field]);
    }
    expect(readdirSync(repo).sort()).toEqual(["root"]);
    const missing = join(tmp(), "no-such-repo");
    expect(await refusal(publishRelease(await request(missing, keys), manualClock(NOW)))).toMatchObject({ code: "invalid_request", field: "repo" });
    expect(existsSync(missing)).toBe(false);
  });

  test("files land content-addressed; a mirror URL comes first; the same file twice is stored once", async () => {
    const { repo, keys } = await freshRepo();
    const one = await publishRelease(await request(repo, keys, { urlBase: "https://cdn.example/hearth/" }), manualClock(NOW));
    const f = one.manifest.files[0]!;
    expect(f.urls).toEqual([`https://cdn.example/hearth/files/${f.sha256}/${f.name}`, `files/${f.sha256}/${f.name}`]);
    const two = await publishRelease(await request(repo, keys, { version: "1.0.1" }), manualClock(NOW + 1000));
    expect(two.manifest.files[0]!.sha256).toBe(f.sha256);
    expect(readdirSync(join(repo, "files")).filter((n) => !n.startsWith("."))).toEqual([f.sha256]);
    expect(readdirSync(join(repo, "files")).filter((n) => n.startsWith(".incoming"))).toEqual([]);
    expect(two.index.version).toBe(2);
  });

  test("a file on another file system is copied (hashed while copied); on the same one it is hard-linked", async () => {
    const { repo } = await freshRepo();
    const model = await testModel();
    const local = join(tmp(), "local.gguf");
    copyFileSync(model, local);
    const linked = await placeFile(repo, local);
    expect(statSync(join(repo, linked.path)).ino).toBe(statSync(local).ino);
    // /dev/shm is a tmpfs, another file system than the temp dir's disk here.
    const shmDir = mkdtempSync("/dev/shm/hearth-ota-");
    const remote = join(shmDir, "remote.gguf");
    copyFileSync(model, remote);
    const copied = await placeFile(repo, remote);
    const sameDevice = statSync(shmDir).dev === statSync(repo).dev;
    expect(statSync(join(repo, copied.path)).ino === statSync(remote).ino).toBe(sameDevice);
    expect(copied.sha256).toBe(linked.sha256);
    expect(readFileSync(join(repo, copied.path)).equals(readFileSync(model))).toBe(true);
    rmSync(shmDir, { recursive: true, force: true });
  });

  test("one base model per channel: a new name replaces the old one; adapters stay beside it", async () => {
    const { repo, keys } = await freshRepo();
    await publishRelease(await request(repo, keys), manualClock(NOW));
    await publishRelease(await request(repo, keys, { name: "other-model", version: "0.1.0" }), manualClock(NOW));
    const { index } = readRepo(repo);
    expect(index!.channels.stable!.releases.map((r) => r.name)).toEqual(["other-model"]);
  });

  test("rollout and refresh re-issue manifests under new addresses; a manifest changed on disk is refused", async () => {
    const { repo, keys } = await freshRepo();
    const first = await publishRelease(await request(repo, keys), manualClock(NOW));
    const later = manualClock(NOW + 5 * 86_400_000);
    const rolled = await setRollout({ repo, channel: "stable", percent: 12.5, groups: ["pilot"], expiresDays: 10, keys }, later);
    expect(rolled.manifest).toMatchObject({ rollout: { percent: 12.5, groups: ["pilot"] }, issuedAt: new Date(NOW + 5 * 86_400_000).toISOString() });
    const entry = rolled.index.channels.stable!.releases[0]!;
    expect(entry.manifest).not.toBe(first.entry.manifest);
    expect(existsSync(join(repo, first.entry.manifest))).toBe(true); // a box holding the old index still finds it

    expect((await refusal(setRollout({ repo, channel: "beta", percent: 1, expiresDays: 10, keys }, later))).field).toBe("channel");
    expect((await refusal(setRollout({ repo, channel: "stable", expiresDays: 10, keys }, later))).field).toBe("percent");

    writeFileSync(join(repo, entry.manifest), readFileSync(join(repo, entry.manifest), "utf8").replace("12.5", "100"));
    expect(await refusal(refreshRepo({ repo, expiresDays: 10, keys }, later))).toMatchObject({ code: "release_invalid" });
  });

  test("a live publisher's lock makes a second one wait its turn; a dead one's lock is taken over", async () => {
    const dir = tmp();
    let inner: { code: string } | null = null;
    await withRepoLock(dir, async () => {
      inner = await refusal(withRepoLock(dir, async () => 1));
    });
    expect(inner).toMatchObject({ code: "conflict" });
    const dead = Bun.spawnSync([process.execPath, "-e", "process.exit(0)"]).pid;
    writeFileSync(join(dir, ".publish.lock"), String(dead));
    expect(await withRepoLock(dir, async () => "ran")).toBe("ran");
    expect(existsSync(join(dir, ".publish.lock"))).toBe(false);
  });
});
