/** Update (OTA) events go to the outbox for `/ota` whenever the box talks to the fleet, and only then. */
import { afterAll, afterEach, expect, test } from "bun:test";
import { removeTempDirs, testBox, type TestBox } from "./helpers.ts";

const boxes: TestBox[] = [];
afterEach(() => {
  for (const b of boxes.splice(0)) b.db.close();
});
afterAll(removeTempDirs);

const otaRows = (box: TestBox) =>
  (box.db.prepare("SELECT payload FROM telemetry_outbox WHERE channel = 'ota' ORDER BY id").all() as { payload: string }[]).map((r) => JSON.parse(r.payload));

test("an SMB box queues each event durably, with the envelope and the event's detail", () => {
  const box = testBox({ tier: "smb", config: { enabled: false } });
  boxes.push(box);
  expect(box.telemetry.otaEvent("state", { state: "downloading", release: { name: "clinic", version: "1.1.0" } })).toBe(true);
  expect(box.telemetry.otaEvent("state", { state: "committed" })).toBe(true);
  expect(box.telemetry.outbox.depth().byChannel.ota).toBe(2);
  const [first, second] = otaRows(box);
  expect(first).toMatchObject({ v: 1, device: box.deviceId, event: "state", detail: { state: "downloading", release: { name: "clinic", version: "1.1.0" } } });
  expect(second.detail).toEqual({ state: "committed" });
  expect(first.id).not.toBe(second.id);
});

test("a Community box sends nothing unless the owner opted in", () => {
  const quiet = testBox({ tier: "community", licenseId: null, config: { enabled: false } });
  const opted = testBox({ tier: "community", licenseId: null, config: { enabled: true } });
  boxes.push(quiet, opted);
  expect(quiet.telemetry.otaEvent("state", { state: "committed" })).toBe(false);
  expect(otaRows(quiet)).toEqual([]);
  expect(opted.telemetry.otaEvent("state", { state: "committed" })).toBe(true);
  expect(otaRows(opted)).toHaveLength(1);
});
