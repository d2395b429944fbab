import { afterEach, describe, expect, test } from "bun:test";
import { loadConfig } from "../../runtime/config/load.ts";
import { storedOverrides } from "../../runtime/admin/overrides.ts";
import { storeConfigOverride } from "../../runtime/fleet/commands/config-overrides.ts";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
afterEach(() => h?.close());

const setting = (res: { json: any }, path: string) => res.json.settings.find((s: any) => s.path === path);

describe("settings", () => {
  test("stored through the config-override mechanism and in force at the next start", async () => {
    h = adminHarness();
    await h.pair();
    const put = await h.call("PUT", "settings", { body: { "server.host": "0.0.0.0", "model.maxTokens": 64, "auth.openInference": true } });
    expect(put.status).toBe(200);
    expect(setting(put, "server.host")).toMatchObject({ inForce: "127.0.0.1", stored: "0.0.0.0" });
    expect(put.json.restartRequired).toBe(true);
    const rows = h.db.prepare("SELECT path, command_id FROM config_overrides ORDER BY path").all() as { path: string; command_id: string }[];
    expect(rows.map((r) => r.path)).toEqual(["auth.openInference", "model.maxTokens", "server.host"]);
    expect(rows.every((r) => r.command_id === "admin:session")).toBe(true);
    // What `hearth serve` loads at its next start (the fleet allow-list alone would drop these).
    const next = loadConfig({ flags: { dataDir: h.dataDir }, fleetOverrides: storedOverrides(h.db) });
    expect(next.server.host).toBe("0.0.0.0");
    expect(next.model.maxTokens).toBe(64);
    expect(next.auth.openInference).toBe(true);

    // null removes a stored value.
    const cleared = await h.call("PUT", "settings", { body: { "server.host": null } });
    expect(setting(cleared, "server.host").stored).toBeNull();
    expect(storedOverrides(h.db)["server.host"]).toBeUndefined();
  });

  test("a bad value names the setting and stores nothing, not even the good ones beside it", async () => {
    h = adminHarness();
    await h.pair();
    for (const body of [{ "model.parallel": 0 }, { "model.maxTokens": 64, "model.parallel": 65 }, { "log.level": "loud" }, { "server.host": "" }, { dataDir: "/tmp" }, {}]) {
      const res = await h.call("PUT", "settings", { body });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("invalid_request");
    }
    expect((await h.call("PUT", "settings", { body: { "model.parallel": 0 } })).json.error.field).toBe("model.parallel");
    expect(h.db.prepare("SELECT COUNT(*) AS n FROM config_overrides").get()).toEqual({ n: 0 });
  });

  test("a fleet command's override shows as stored, and stays limited to what the fleet may set", async () => {
    h = adminHarness();
    await h.pair();
    storeConfigOverride(h.db, { path: "model.maxTokens", value: 32, commandId: "cmd-1", setAt: Date.now() });
    storeConfigOverride(h.db, { path: "auth.openInference", value: true, commandId: "cmd-2", setAt: Date.now() });
    const res = await h.call("GET", "settings");
    expect(setting(res, "model.maxTokens").stored).toBe(32);
    // A fleet command may only turn open inference off; the admin may turn it on.
    expect(setting(res, "auth.openInference").stored).toBeNull();
  });
});

describe("telemetry settings", () => {
  test("broker, opt-in and fleet are stored for the next start; the password never shows", async () => {
    h = adminHarness();
    await h.pair();
    const before = await h.call("GET", "telemetry");
    expect(before.json).toMatchObject({ inForce: { broker: null, enabled: false, fleet: "default" }, restartRequired: false, status: { started: false, connected: false } });
    const put = await h.call("PUT", "telemetry", { body: { broker: "mqtts://box:s3cret@broker.example:8883", enabled: true, fleet: "clinics" } });
    expect(put.status).toBe(200);
    expect(put.json.next).toEqual({ broker: "mqtts://box:***@broker.example:8883", enabled: true, fleet: "clinics" });
    expect(put.json.inForce.enabled).toBe(false);
    expect(put.json.restartRequired).toBe(true);
    expect(JSON.stringify(put.json)).not.toContain("s3cret");
    const next = loadConfig({ flags: { dataDir: h.dataDir }, fleetOverrides: storedOverrides(h.db) });
    expect(next.telemetry).toMatchObject({ broker: "mqtts://box:s3cret@broker.example:8883", enabled: true, fleet: "clinics" });
  });

  test("bad values are refused with the field named", async () => {
    h = adminHarness();
    await h.pair();
    for (const [body, field] of [[{ broker: "http://x" }, "broker"], [{ fleet: "a/b" }, "fleet"], [{ enabled: "yes" }, "enabled"], [{}, ""]] as const) {
      const res = await h.call("PUT", "telemetry", { body });
      expect(res.status).toBe(400);
      if (field) expect(res.json.error.field).toBe(field);
    }
  });
});

describe("updates", () => {
  test("answer 501 not_implemented until OTA plugs in", async () => {
    h = adminHarness();
    await h.pair();
    for (const [method, path] of [["GET", "updates"], ["POST", "updates/check"], ["POST", "updates/apply"], ["POST", "updates/rollback"]] as const) {
      const res = await h.call(method, path);
      expect(res.status).toBe(501);
      expect(res.json.error.code).toBe("not_implemented");
      expect(res.json.error.message).toContain("over-the-air updates");
    }
  });

  test("an UpdateService passed in answers instead", async () => {
    const state = { state: "idle", current: "1.0.0", available: "1.1.0", progress: null, message: null };
    const applied: unknown[] = [];
    h = adminHarness({
      options: {
        updates: { state: () => state, check: async () => state, apply: async (req) => (applied.push(req), { ...state, state: "applying" }), rollback: async () => ({ ...state, state: "rolled-back" }) },
      },
    });
    await h.pair();
    expect((await h.call("GET", "updates")).json).toEqual(state);
    const apply = await h.call("POST", "updates/apply", { body: { release: "1.1.0" } });
    expect(apply.status).toBe(202);
    expect(apply.json.state).toBe("applying");
    expect(applied).toEqual([{ release: "1.1.0" }]);
  });
});
