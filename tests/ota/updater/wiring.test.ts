/**
 * The agent as the rest of the box sees it during an update: the admin API's update routes (no
 * longer 501), /metrics' hearth_ota_state, the `/ota` events (each one valid against its schema,
 * in state order, with progress) and the status LED's updating flag on while an update runs.
 */
import { afterAll, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { systemClock } from "../../../runtime/clock.ts";
import { AdminTokenStore } from "../../../runtime/admin/tokens.ts";
import { OtaEventSchema, type OtaEvent } from "../../../ota/agent/events.ts";
import { cleanUp, keep, otaFlags, releaseOnRepo, startBox, tmp } from "./fixture.ts";

afterAll(cleanUp);

test("admin API, /metrics, /ota events and the LED follow an update", async () => {
  const { factory, repo } = await releaseOnRepo();
  const events: OtaEvent[] = [];
  const box = keep(await startBox(tmp(), factory, otaFlags(repo), { ota: { onEvent: (e) => events.push(e) } }));
  const led: boolean[] = [];
  box.deviceIo.setUpdating = (flag) => void led.push(flag);
  const token = new AdminTokenStore(box.db, systemClock).create("test").token;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${box.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text() };
  };

  expect(await api("GET", "/admin/api/updates")).toMatchObject({ status: 200, body: { state: "idle", current: expect.stringContaining("factory model"), available: null } });
  expect(await api("POST", "/admin/api/updates/check", {})).toMatchObject({ status: 200, body: { available: "demo 1.1.0" } });
  const wrong = await api("POST", "/admin/api/updates/apply", { release: "demo@9.9.9" });
  expect(wrong).toMatchObject({ status: 409, body: { error: { code: "release_rejected", field: "release" } } });
  const started = await api("POST", "/admin/api/updates/apply", {});
  expect(started.status).toBe(202);
  expect(await api("POST", "/admin/api/updates/apply", {})).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
  await box.ota.settled();
  expect(await api("GET", "/admin/api/updates")).toMatchObject({ status: 200, body: { state: "committed", current: "demo 1.1.0", progress: null, message: null } });
  expect(await api("POST", "/admin/api/updates/apply", {})).toMatchObject({ status: 409, body: { error: { code: "release_rejected" } } });

  const metrics = await api("GET", "/metrics");
  expect(metrics.body).toContain('hearth_ota_state{state="committed"} 1');

  for (const e of events) expect(Value.Check(OtaEventSchema, e)).toBe(true);
  const states = events.filter((e) => e.event === "state").map((e) => e.state);
  expect(states).toEqual(["downloading", "verifying", "staged", "switching", "health-check", "committed"]);
  expect(events.some((e) => e.event === "progress" && e.progress !== null)).toBe(true);
  expect(events.some((e) => e.event === "check" && e.lastCheck?.outcome === "available")).toBe(true);
  expect(led[0]).toBe(true);
  expect(led.at(-1)).toBe(false);
}, 60_000);
