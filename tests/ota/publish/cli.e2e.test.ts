/**
 * The publisher end to end, as a fleet admin runs it: real `hearth` child processes (keygen, root
 * init and rotate, publish, rollout, serve-repo) on synthesized models, and a box's verification
 * of what serve-repo hands out over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { entitlementGate } from "../../../runtime/license/entitlements.ts";
import { synthesizeLora } from "../../../runtime/model/lora/synth.ts";
import { CLI, hearth } from "../../helpers/cli.ts";
import { testModel } from "../../helpers/models.ts";
import { fileUrls, loadTrustedRoot, nextRoot, planRelease, verifyRelease, type ReleaseDecision, type ReleaseInput, type Root } from "../../../ota/verify/index.ts";
import { tmp } from "../helpers.ts";

const dir = tmp("hearth-ota-cli-");
const repo = join(dir, "repo");
const keys = { k1: join(dir, "k1"), k2: join(dir, "k2"), k3: join(dir, "k3") };
let serve: { proc: Bun.Subprocess<"ignore", "pipe", "pipe">; url: string };
let models: { v1: string; v2f16: string; v2q8: string };

async function ok(args: string[]): Promise<any> {
  const r = await hearth([...args, "--json"]);
  if (r.code !== 0) throw new Error(`hearth ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function startServeRepo(): Promise<typeof serve> {
  const proc = Bun.spawn([process.execPath, CLI, "fleet", "serve-repo", repo, "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/at (http:\/\/\S+)\//.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve-repo exited: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, url: /at (http:\/\/\S+)\//.exec(out)![1]! };
}

const fetchBytes = async (path: string) => {
  const r = await fetch(`${serve.url}/${path}`);
  expect(r.status).toBe(200);
  return new Uint8Array(await r.arrayBuffer());
};

/** What a box would do: walk the roots it can fetch, then verify the index and its manifest. */
async function boxCheck(over: Partial<Omit<ReleaseInput, "manifest">> = {}): Promise<ReleaseDecision> {
  const first = loadTrustedRoot(await fetchBytes("root/1.root.json"));
  if (!first.ok) throw new Error(first.message);
  let root: Root = first.value;
  for (;;) {
    const r = await fetch(`${serve.url}/root/${root.version + 1}.root.json`);
    if (r.status === 404) break;
    const next = nextRoot(root, new Uint8Array(await r.arrayBuffer()));
    if (!next.ok) throw new Error(next.message);
    root = next.value;
  }
  const want = over.want ?? { kind: "base-model" as const };
  const device = { id: "hd-e2e-box", groups: [], channel: "stable", gate: entitlementGate("smb", ["base_model_updates", "lora_adapters"], "test"), runtimeVersion: "0.1.0" };
  const input = { root, index: await fetchBytes("index.json"), storedIndexVersion: 0, want, device, now: Date.now(), installed: { name: "demo", version: "1.0.0" }, activeBase: null, ...over };
  // The plan names the manifest to fetch; a refusal before that is final.
  const plan = planRelease(input);
  if (!plan.ok) return plan;
  return verifyRelease({ ...input, manifest: await fetchBytes(plan.entry.manifest) });
}

beforeAll(async () => {
  const [v1, v2f16, v2q8] = await Promise.all([testModel({ seed: 1 }), testModel({ seed: 2 }), testModel({ seed: 2, type: "q8_0" })]);
  models = { v1, v2f16, v2q8 };
  for (const k of Object.values(keys)) await ok(["fleet", "keygen", "--out", k]);
});

afterAll(() => serve?.proc.kill());

describe("hearth fleet root / publish / rollout / serve-repo", () => {
  test("root init: 2 of 2 root keys; release and index keys default to them, 1 of 2", async () => {
    const { root } = await ok(["fleet", "root", "init", "--keys", `${keys.k1},${keys.k2}`, "--threshold", "2", "--repo", repo]);
    expect(root).toMatchObject({ version: 1, roles: { root: { threshold: 2 }, release: { threshold: 1 }, index: { threshold: 1 } } });
    const again = await hearth(["fleet", "root", "init", "--keys", keys.k1, "--threshold", "1", "--repo", repo]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("has a root already");
  });

  test("publish two versions; the second with two quantizations; the index version increases", async () => {
    const one = await ok(["fleet", "publish", models.v1, "--name", "demo", "--version", "1.0.0", "--channel", "stable", "--key", keys.k1, "--repo", repo]);
    expect(one.indexVersion).toBe(1);
    const two = await ok(["fleet", "publish", models.v2f16, models.v2q8, "--name", "demo", "--version", "1.1.0", "--channel", "stable", "--key", join(keys.k2, "fleet-private.pem"), "--repo", repo]);
    expect(two.indexVersion).toBe(2);
    expect(two.manifest.files.map((f: { quantization: string }) => f.quantization)).toEqual(["F16", "Q8_0"]);
    const f16 = two.manifest.files[0];
    expect(f16).toMatchObject({ size: statSync(models.v2f16).size, sha256: createHash("sha256").update(readFileSync(models.v2f16)).digest("hex") });
    expect(f16.urls).toEqual([`files/${f16.sha256}/${f16.name}`]);
    expect(statSync(join(repo, "files", f16.sha256, f16.name)).size).toBe(f16.size);
  });

  test("a version not newer than the channel's, or a key outside the roles, is refused with nothing written", async () => {
    const before = readFileSync(join(repo, "index.json"));
    const older = await hearth(["fleet", "publish", models.v1, "--name", "demo", "--version", "1.0.5", "--channel", "stable", "--key", keys.k1, "--repo", repo]);
    expect(older.code).toBe(1);
    expect(older.stderr).toContain("[release_rejected]");
    const stranger = await hearth(["fleet", "publish", models.v1, "--name", "demo", "--version", "2.0.0", "--channel", "stable", "--key", keys.k3, "--repo", repo]);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain("the release role of root version 1 needs 1 of its keys");
    const badName = await hearth(["fleet", "publish", models.v1, "--name", "Bad Name", "--version", "2.0.0", "--channel", "stable", "--key", keys.k1, "--repo", repo]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain("name:");
    expect(readFileSync(join(repo, "index.json")).equals(before)).toBe(true);
  });

  test("serve-repo: a box fetches root, index and manifest over HTTP and accepts the newest release", async () => {
    serve = await startServeRepo();
    const d = await boxCheck();
    expect(d).toMatchObject({ ok: true, manifest: { name: "demo", version: "1.1.0" }, index: { version: 2 } });
    if (!d.ok) return;
    // The file the manifest lists downloads whole and hashes to what it says.
    const file = d.manifest.files[1]!;
    const [url] = fileUrls(serve.url, file);
    const body = new Uint8Array(await (await fetch(url!)).arrayBuffer());
    expect(body.byteLength).toBe(file.size);
    expect(createHash("sha256").update(body).digest("hex")).toBe(file.sha256);
  });

  test("serve-repo ranges: partial, resume from an offset, 416, If-Range mismatch → 200, ETag → 304", async () => {
    const d = await boxCheck();
    if (!d.ok) throw new Error(d.message);
    const file = d.manifest.files[0]!;
    const url = fileUrls(serve.url, file)[0]!;
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const head = await fetch(url, { method: "HEAD" });
    const etag = head.headers.get("etag")!;
    expect(head.headers.get("content-length")).toBe(String(file.size));

    const part = await fetch(url, { headers: { Range: "bytes=0-1023" } });
    expect(part.status).toBe(206);
    const first = new Uint8Array(await part.arrayBuffer());
    const rest = await fetch(url, { headers: { Range: `bytes=${first.byteLength}-`, "If-Range": etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes 1024-${file.size - 1}/${file.size}`);
    const resumed = new Uint8Array([...first, ...new Uint8Array(await rest.arrayBuffer())]);
    expect(createHash("sha256").update(resumed).digest("hex")).toBe(file.sha256);

    const beyond = await fetch(url, { headers: { Range: `bytes=${file.size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${file.size}`);
    await beyond.arrayBuffer();
    const changed = await fetch(url, { headers: { Range: "bytes=1024-", "If-Range": '"another-version"' } });
    expect(changed.status).toBe(200);
    expect(Buffer.from(await changed.arrayBuffer()).equals(Buffer.from(whole))).toBe(true);
    const cached = await fetch(url, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
  });

  test("rollout to 0% puts the box out; a group brings it back in; each step is a new index version", async () => {
    const zero = await ok(["fleet", "rollout", "--channel", "stable", "--percent", "0", "--key", keys.k1, "--repo", repo]);
    expect(zero).toMatchObject({ rollout: { percent: 0, groups: [] }, indexVersion: 3 });
    expect(await boxCheck()).toMatchObject({ ok: false, code: "not_in_rollout", index: { version: 3 } });
    expect(await boxCheck({ storedIndexVersion: 4 })).toMatchObject({ ok: false, code: "index_rollback" });

    const pilot = await ok(["fleet", "rollout", "--channel", "stable", "--group", "pilot", "--key", keys.k2, "--repo", repo]);
    expect(pilot).toMatchObject({ rollout: { percent: 0, groups: ["pilot"] }, indexVersion: 4 });
    const device = { id: "hd-e2e-box", groups: ["pilot"], channel: "stable", gate: entitlementGate("smb", [], "test"), runtimeVersion: "0.1.0" };
    expect(await boxCheck({ device })).toMatchObject({ ok: true, rollout: { by: "group" } });
  });

  test("a LoRA release for the base model: installs on demo 1.1.x only", async () => {
    const adapter = await synthesizeLora({ out: join(dir, "legal-adapter.gguf"), base: models.v2f16, seed: 3 });
    const pub = await ok(["fleet", "publish", adapter.path, "--kind", "lora", "--name", "legal-adapter", "--version", "0.1.0", "--base", "demo@~1.1.0", "--channel", "stable", "--key", keys.k1, "--repo", repo]);
    expect(pub.manifest).toMatchObject({ kind: "lora", entitlement: "lora_adapters", base: { name: "demo", versions: "~1.1.0" } });
    const want = { kind: "lora" as const, name: "legal-adapter" };
    expect(await boxCheck({ want, installed: null, activeBase: { name: "demo", version: "1.1.0" } })).toMatchObject({ ok: true });
    expect(await boxCheck({ want, installed: null, activeBase: { name: "demo", version: "1.0.0" } })).toMatchObject({ ok: false, code: "base_mismatch" });
    // The channel's base model is still there beside the adapter.
    expect(await boxCheck({ installed: { name: "demo", version: "1.1.0" } })).toMatchObject({ ok: false, code: "up_to_date" });
  });

  test("root rotate: a new release key replaces the old ones; the box walks 1 → 2 and only the new key publishes", async () => {
    const unsigned = await hearth(["fleet", "root", "rotate", "--release-keys", keys.k3, "--index-keys", keys.k3, "--sign-with", keys.k1, "--repo", repo]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain("1 valid signature of root keys of root version 1; 2 are required");
    const rotated = await ok(["fleet", "root", "rotate", "--release-keys", join(keys.k3, "fleet-public.json"), "--index-keys", join(keys.k3, "fleet-public.json"), "--sign-with", `${keys.k1},${keys.k2}`, "--repo", repo]);
    expect(rotated.root).toMatchObject({ version: 2, roles: { root: { threshold: 2 }, release: { keyIds: [expect.stringMatching(/^fleet-/)], threshold: 1 } } });

    const old = await hearth(["fleet", "publish", models.v1, "--name", "demo", "--version", "1.2.0", "--channel", "stable", "--key", keys.k1, "--repo", repo]);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("root version 2");
    await ok(["fleet", "publish", models.v1, "--name", "demo", "--version", "1.2.0", "--channel", "stable", "--key", keys.k3, "--repo", repo]);
    expect(await boxCheck({ installed: { name: "demo", version: "1.1.0" } })).toMatchObject({ ok: true, manifest: { version: "1.2.0" } });
    // The adapter's manifest is still signed by the revoked key: refused until re-signed.
    const lora = { want: { kind: "lora" as const, name: "legal-adapter" }, installed: null, activeBase: { name: "demo", version: "1.1.0" } };
    expect(await boxCheck(lora)).toMatchObject({ ok: false, code: "insufficient_signatures" });
  });

  test("refresh re-signs every listed release and the index with the current keys", async () => {
    const refreshed = await ok(["fleet", "refresh", "--key", keys.k3, "--expires", "60", "--repo", repo]);
    expect(refreshed.releases).toHaveLength(2);
    expect(Date.parse(refreshed.expiresAt)).toBeGreaterThan(Date.now() + 59 * 86_400_000);
    const lora = { want: { kind: "lora" as const, name: "legal-adapter" }, installed: null, activeBase: { name: "demo", version: "1.1.0" } };
    expect(await boxCheck(lora)).toMatchObject({ ok: true, manifest: { name: "legal-adapter", version: "0.1.0" } });
  });
});
