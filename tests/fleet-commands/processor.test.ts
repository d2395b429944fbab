import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { HearthError } from "../../runtime/errors.ts";
import { configOverrides, listConfigOverrides, storeConfigOverride } from "../../runtime/fleet/commands/config-overrides.ts";
import { licenseInstallHook } from "../../runtime/fleet/commands/license-hook.ts";
import { NONCE_RETENTION_MS } from "../../runtime/fleet/commands/limits.ts";
import { licenseFilePath } from "../../runtime/license/store.ts";
import { DEVICE as LICENSED_DEVICE, licenseBytes, payload, stranger as strangeVendor, VENDOR_KEYS } from "../license/helpers.ts";
import { signCommand } from "../../runtime/fleet/commands/signing.ts";
import { admin, DEVICE, encode, NOW, OTHER_DEVICE, processor, signed, tmp, unsigned } from "./helpers.ts";

describe("command processor", () => {
  test("config.set stores an allow-listed value durably, before the ack, and the loader's view has it", async () => {
    const dir = tmp();
    const applied: [string, unknown][] = [];
    const box = processor(dir, { applyConfig: (path, value) => (applied.push([path, value]), path === "log.level") });
    const cmd = signed({ args: { path: "log.level", value: "debug" } });
    expect(await box.handle(cmd)).toEqual({ commandId: cmd.id, outcome: "done", result: { path: "log.level", value: "debug", appliesAt: "now" } });
    const later = signed({ args: { path: "model.maxTokens", value: 256 } });
    expect((await box.handle(later)).result).toEqual({ path: "model.maxTokens", value: 256, appliesAt: "next start" });
    expect(applied).toEqual([["log.level", "debug"], ["model.maxTokens", 256]]);
    box.db.close();

    // Another connection (a restarted box) sees both, with the command that set them.
    const again = processor(dir);
    expect(configOverrides(again.db)).toEqual({ "log.level": "debug", "model.maxTokens": 256 });
    expect(listConfigOverrides(again.db).find((o) => o.path === "log.level")).toEqual({ path: "log.level", value: "debug", commandId: cmd.id, setAt: NOW });
    again.db.close();
  });

  test("config.set refuses paths off the allow-list and bad values, naming them, and stores nothing", async () => {
    const box = processor(tmp());
    const broker = await box.handle(signed({ args: { path: "telemetry.broker", value: "mqtt://evil.example" } }));
    expect(broker).toMatchObject({ outcome: "rejected", code: "not_allowed" });
    expect(broker.reason).toContain('"telemetry.broker"');
    const level = await box.handle(signed({ args: { path: "log.level", value: "chatty" } }));
    expect(level).toMatchObject({ outcome: "rejected", code: "invalid_args" });
    expect(level.reason).toContain("log.level");
    expect(listConfigOverrides(box.db)).toEqual([]);
  });

  test("config.unset removes an override; a stored value this release no longer allows is skipped at start", async () => {
    const box = processor(tmp());
    await box.handle(signed({ args: { path: "telemetry.enabled", value: true } }));
    expect(configOverrides(box.db)).toEqual({ "telemetry.enabled": true });
    const unset = await box.handle(signed({ kind: "config.unset", args: { path: "telemetry.enabled" } }));
    expect(unset).toMatchObject({ outcome: "done", result: { path: "telemetry.enabled", removed: true, appliesAt: "next start" } });
    expect(configOverrides(box.db)).toEqual({});
    storeConfigOverride(box.db, { path: "server.host", value: "0.0.0.0", commandId: "old", setAt: NOW });
    storeConfigOverride(box.db, { path: "log.level", value: "shouty", commandId: "old", setAt: NOW });
    expect(configOverrides(box.db)).toEqual({});
  });

  test("a value stored but not applied live still answers done, with the live error", async () => {
    const box = processor(tmp(), {
      applyConfig: () => {
        throw new Error("logger is read-only");
      },
    });
    const ack = await box.handle(signed({ args: { path: "log.level", value: "warn" } }));
    expect(ack).toMatchObject({ outcome: "done", result: { appliesAt: "next start", liveError: "logger is read-only" } });
    expect(configOverrides(box.db)).toEqual({ "log.level": "warn" });
  });

  test("replayed: the same command twice runs once, also after the processor restarts on the same database", async () => {
    const dir = tmp();
    let flushes = 0;
    const flush = async () => ({ published: ++flushes });
    const first = processor(dir, { flush });
    const cmd = signed({ kind: "telemetry.flush", args: {} });
    expect(await first.handle(cmd)).toEqual({ commandId: cmd.id, outcome: "done", result: { published: 1 } });
    const replay = await first.handle(cmd);
    expect(replay).toMatchObject({ commandId: cmd.id, outcome: "rejected", code: "replayed" });
    expect(replay.reason).toContain(cmd.nonce);
    first.db.close();

    const restarted = processor(dir, { flush });
    expect(await restarted.handle(cmd)).toMatchObject({ outcome: "rejected", code: "replayed" });
    // The same payload delivered twice at once (QoS 1 redelivery) still runs once.
    const twin = signed({ kind: "telemetry.flush", args: {} });
    const acks = await Promise.all([restarted.handle(twin), restarted.handle(twin)]);
    expect(acks.map((a) => a.outcome).sort()).toEqual(["done", "rejected"]);
    expect(flushes).toBe(2);
    restarted.db.close();
  });

  test("nonces are kept while a command could pass and pruned well after it expired", async () => {
    const box = processor(tmp());
    const old = signed();
    expect((await box.handle(old)).outcome).toBe("done");
    const nonces = () => (box.db.prepare("SELECT nonce FROM command_nonces ORDER BY seen_at").all() as { nonce: string }[]).map((r) => r.nonce);
    const expiry = Date.parse(old.expiresAt);
    // Within the retention after expiry the nonce stays (a clock set back must not revive the command).
    box.clock.set(expiry + NONCE_RETENTION_MS - 1);
    const mid = signCommand(unsigned({}, box.clock.now()), admin);
    expect((await box.handle(mid)).outcome).toBe("done");
    expect(nonces()).toEqual([old.nonce, mid.nonce]);
    // Past it, the next accepted command prunes it in the same transaction.
    box.clock.set(expiry + NONCE_RETENTION_MS + 1);
    const late = signCommand(unsigned({}, box.clock.now()), admin);
    expect((await box.handle(late)).outcome).toBe("done");
    expect(nonces()).toEqual([mid.nonce, late.nonce]);
    // A clock set back by less than the retention still finds the old command replayed, not new.
    box.clock.set(NOW);
    expect(await box.handle(mid)).toMatchObject({ outcome: "rejected", code: "not_yet_valid" });
    box.clock.set(Date.parse(mid.issuedAt) + 1000);
    expect(await box.handle(mid)).toMatchObject({ outcome: "rejected", code: "replayed" });
  });

  test("license.install hands the license bytes (JSON text or base64) to the hook and reports the tier", async () => {
    const seen: string[] = [];
    const box = processor(tmp(), {
      installLicense: (bytes) => {
        seen.push(new TextDecoder().decode(bytes));
        return { tier: "smb", licenseId: "lic-1" };
      },
    });
    const text = '{"formatVersion":1}';
    expect(await box.handle(signed({ kind: "license.install", args: { license: text } }))).toMatchObject({ outcome: "done", result: { tier: "smb", licenseId: "lic-1" } });
    expect(await box.handle(signed({ kind: "license.install", args: { license: Buffer.from(text).toString("base64") } }))).toMatchObject({ outcome: "done" });
    expect(seen).toEqual([text, text]);
  });

  test("license.install with the production hook: a valid license is installed, a forged one fails with its reason and changes nothing", async () => {
    const dir = tmp();
    const box = processor(dir);
    const licensing = { dataDir: dir, db: box.db, config: { vendorKeys: VENDOR_KEYS, clockToleranceSeconds: 300, checkpointEvery: 1000 }, device: LICENSED_DEVICE, clock: box.clock };
    const installed: string[] = [];
    const proc = processor(dir, { db: box.db, installLicense: licenseInstallHook(licensing, (state) => installed.push(state.tier)) });

    const forged = await proc.handle(signed({ kind: "license.install", args: { license: new TextDecoder().decode(licenseBytes(payload(), strangeVendor)) } }));
    expect(forged).toMatchObject({ outcome: "failed", code: "license_invalid" });
    expect(forged.reason).toContain("bad_signature");
    expect(statSync(licenseFilePath(dir), { throwIfNoEntry: false })).toBeUndefined();

    const good = await proc.handle(signed({ kind: "license.install", args: { license: Buffer.from(licenseBytes()).toString("base64") } }));
    expect(good).toMatchObject({ outcome: "done", result: { tier: "smb", licenseId: "lic-test-1", reason: "valid" } });
    expect(installed).toEqual(["smb"]);
    expect(statSync(licenseFilePath(dir)).size).toBeGreaterThan(0);
  });

  test("handler errors and hangs are failed acks, never throws", async () => {
    const box = processor(tmp(), {
      flush: async () => {
        throw new HearthError("internal", "outbox is locked");
      },
      installLicense: () => new Promise(() => {}),
      handlerTimeoutMs: 50,
    });
    expect(await box.handle(signed({ kind: "telemetry.flush", args: {} }))).toMatchObject({ outcome: "failed", code: "internal", reason: "outbox is locked" });
    const hung = await box.handle(signed({ kind: "license.install", args: { license: "{}" } }));
    expect(hung).toMatchObject({ outcome: "failed", code: "timeout" });
  });

  test("a broken database is a failed ack, not a crash", async () => {
    const box = processor(tmp());
    box.db.close();
    const ack = await box.handle(signed());
    expect(ack).toMatchObject({ outcome: "failed", code: "internal" });
  });

  test("malformed payloads of any kind get exactly one rejected ack and never throw", async () => {
    const box = processor(tmp());
    const cmd = signed();
    const payloads: Uint8Array[] = [
      new Uint8Array(0),
      encode("{"),
      encode("null"),
      encode("[1,2,3]"),
      encode('{"v":1}'),
      encode('{"__proto__":{"polluted":true},"v":1}'),
      encode({ ...cmd, args: null }),
      encode({ ...cmd, target: "everyone" }),
      encode({ ...cmd, issuedAt: 12 }),
      encode("\u0000\u0001\u0002"),
      new Uint8Array([0xc3, 0x28]),
      encode("9".repeat(400)),
      encode(JSON.stringify({ ...cmd, id: "x".repeat(65) })),
      encode("[".repeat(100_000)),
      encode("[".repeat(30_000) + "]".repeat(30_000)),
      encode(`{"v":1,"id":"deep","args":{"value":${"[".repeat(20_000)}${"]".repeat(20_000)}}}`),
      encode(JSON.stringify({ ...cmd, args: { path: "log.level", value: "x" } }).replace('"x"', "[".repeat(20_000) + "]".repeat(20_000))),
      new Uint8Array(65 * 1024),
    ];
    for (let i = 0; i < 200; i++) payloads.push(crypto.getRandomValues(new Uint8Array(1 + ((i * 37) % 700))));
    for (const p of payloads) {
      const ack = await box.handle(p);
      expect(ack.outcome).toBe("rejected");
      expect(ack.code).toBeDefined();
      expect((ack.reason ?? "").length).toBeLessThanOrEqual(1024);
    }
    expect(await box.handle(encode({ ...cmd, target: { device: OTHER_DEVICE } }))).toMatchObject({ code: "bad_signature" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Still working afterwards.
    expect((await box.handle(cmd)).outcome).toBe("done");
    expect(DEVICE).toBeTruthy();
  });
});
