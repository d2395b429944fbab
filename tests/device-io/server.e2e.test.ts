/**
 * The LED and button inside a real server: on this x86 box (no GPIO) one warning and nothing
 * else; with status-board pins on a pin driver, the LED shows the model's state and a short press
 * of the button logs a new pairing code.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BUTTON_PIN, FakePins, FakeTime, LED_PIN } from "./fakes.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const lines = (s: TestServer) => s.logs.map((l) => JSON.parse(l) as { level: string; msg: string; [k: string]: unknown });

describe("status LED and button in the server", () => {
  test("without GPIO (this x86 box): one warning with the reason, and the box serves", async () => {
    const s = await startTestServer();
    servers.push(s);
    await s.deviceIo.started;
    const warnings = lines(s).filter((l) => l.msg === "status LED and button not driven");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe("warn");
    expect(String(warnings[0]!.reason ?? JSON.stringify(warnings[0]))).not.toBe("");
    const res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(200);
  });

  test("with pins: the LED is steady on when ready, and a short press logs a new pairing code", async () => {
    const pins = new FakePins(new FakeTime());
    const s = await startTestServer({}, undefined, { deviceIo: { pins: { led: LED_PIN, button: BUTTON_PIN }, driver: pins } });
    servers.push(s);
    await s.deviceIo.started;
    expect(pins.ledOpen && pins.buttonOpen).toBe(true);
    await Bun.sleep(400); // one LED poll after ready
    expect(pins.writes.at(-1)?.level).toBe(1);

    const codesBefore = s.logs.filter((l) => l.includes("pairing code:")).length;
    pins.set(0);
    await Bun.sleep(150);
    pins.set(1);
    const deadline = Date.now() + 3000;
    while (s.logs.filter((l) => l.includes("pairing code:")).length === codesBefore && Date.now() < deadline) await Bun.sleep(25);
    expect(s.logs.filter((l) => l.includes("pairing code:")).length).toBe(codesBefore + 1);

    await s.stop();
    servers.splice(0);
    expect(pins.ledOpen || pins.buttonOpen).toBe(false);
    expect(pins.writes.at(-1)?.level).toBe(0); // off when the runtime stops
  });
});
