import { afterEach, describe, expect, test } from "bun:test";
import { PAIRING_TTL_MS } from "../../runtime/admin/credentials.ts";
import { PAIRING_ALPHABET } from "../../runtime/admin/secrets.ts";
import { manualClock } from "../license/helpers.ts";
import { adminHarness, type AdminHarness } from "./harness.ts";

const PASSWORD = "correct horse battery";
let h: AdminHarness;
afterEach(() => h?.close());

describe("pairing", () => {
  test("the first start logs a human-typeable pairing code and exposes only the pairing routes", async () => {
    h = adminHarness();
    await h.admin.start();
    const code = h.pairingCode();
    expect(code).toMatch(new RegExp(`^[${PAIRING_ALPHABET}]{4}-[${PAIRING_ALPHABET}]{4}$`));
    const session = await h.call("GET", "session");
    expect(session.json).toEqual({ paired: false, pairingOpen: true, authenticated: false, via: null, csrfToken: null });
    const status = await h.call("GET", "status");
    expect(status.status).toBe(403);
    expect(status.json.error.code).toBe("pairing_required");
    // Only its hash is stored.
    const row = h.db.prepare("SELECT code_hash FROM admin_pairing").get() as { code_hash: string };
    expect(row.code_hash).toStartWith("$argon2id$");
    expect(row.code_hash).not.toContain(code.replace("-", ""));
  });

  test("a wrong code is refused and changes nothing; the right one sets the password once", async () => {
    h = adminHarness();
    await h.admin.start();
    const code = h.pairingCode();
    const wrong = await h.call("POST", "pairing", { body: { code: "2222-2222", password: PASSWORD } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toMatchObject({ code: "unauthorized", field: "code" });
    expect(h.db.prepare("SELECT COUNT(*) AS n FROM admin_credentials").get()).toEqual({ n: 0 });

    // Case, spaces and dashes do not matter.
    const right = await h.call("POST", "pairing", { body: { code: ` ${code.toLowerCase().replace("-", " ")} `, password: PASSWORD } });
    expect(right.status).toBe(200);
    expect(right.json).toMatchObject({ paired: true, authenticated: true, via: "session" });
    expect(typeof right.json.csrfToken).toBe("string");
    expect((h.db.prepare("SELECT password_hash FROM admin_credentials").get() as { password_hash: string }).password_hash).toStartWith("$argon2id$");
    expect((await h.call("GET", "status")).status).toBe(200);

    h.forget();
    const again = await h.call("POST", "pairing", { body: { code, password: "another password" } });
    expect(again.status).toBe(403);
    expect(again.json.error.code).toBe("forbidden");
    expect((await h.call("POST", "login", { body: { password: PASSWORD } })).status).toBe(200);
  });

  test("the session cookie is HttpOnly, SameSite=Strict, Path=/ and holds no stored value", async () => {
    h = adminHarness();
    const res = await h.pair(PASSWORD);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hearth_admin=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    const secret = cookie.split(";")[0]!.split("=")[1]!;
    const stored = h.db.prepare("SELECT hash FROM admin_sessions").all() as { hash: Buffer }[];
    expect(stored).toHaveLength(1);
    expect(stored[0]!.hash.toString("base64url")).not.toBe(secret);
  });

  test("a code expires after a day", async () => {
    const clock = manualClock(Date.parse("2026-03-01T00:00:00Z"));
    h = adminHarness({ clock });
    await h.admin.start();
    clock.set(clock.now() + PAIRING_TTL_MS + 1);
    const late = await h.call("POST", "pairing", { body: { code: h.pairingCode(), password: PASSWORD } });
    expect(late.status).toBe(403);
    expect((await h.call("GET", "session")).json.pairingOpen).toBe(false);
  });

  test("a new code while an admin exists lets the holder set a new password and ends every session", async () => {
    h = adminHarness();
    await h.pair(PASSWORD);
    const oldCookie = h.cookie!;
    const code = await h.admin.control.newPairingCode();
    expect(h.pairingCode()).toBe(code);
    h.forget();
    const reset = await h.call("POST", "pairing", { body: { code, password: "a brand new password" } });
    expect(reset.status).toBe(200);
    expect((await h.call("GET", "status", { headers: { cookie: oldCookie } })).status).toBe(401);
    h.forget();
    expect((await h.call("POST", "login", { body: { password: PASSWORD } })).status).toBe(401);
    expect((await h.call("POST", "login", { body: { password: "a brand new password" } })).status).toBe(200);
  });
});

describe("login and logout", () => {
  test("login needs the password; logout ends the session", async () => {
    h = adminHarness();
    await h.pair(PASSWORD);
    h.forget();
    const wrong = await h.call("POST", "login", { body: { password: "not it at all" } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toMatchObject({ code: "unauthorized", field: "password" });
    const ok = await h.call("POST", "login", { body: { password: PASSWORD } });
    expect(ok.status).toBe(200);
    const cookie = h.cookie!;
    const out = await h.call("POST", "logout");
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/^hearth_admin=;/);
    expect((await h.call("GET", "status", { headers: { cookie } })).status).toBe(401);
    expect((await h.call("GET", "session", { headers: { cookie } })).json.authenticated).toBe(false);
  });

  test("login before pairing answers pairing_required", async () => {
    h = adminHarness();
    await h.admin.start();
    const res = await h.call("POST", "login", { body: { password: PASSWORD } });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("pairing_required");
  });

  test("changing the password needs the current one and ends the other sessions", async () => {
    h = adminHarness();
    await h.pair(PASSWORD);
    const first = h.cookie!;
    h.forget();
    await h.call("POST", "login", { body: { password: PASSWORD } });
    const wrong = await h.call("PUT", "password", { body: { current: "nope nope nope", next: "the next password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.field).toBe("current");
    const short = await h.call("PUT", "password", { body: { current: PASSWORD, next: "short" } });
    expect(short.status).toBe(400);
    expect(short.json.error.field).toBe("next");
    expect((await h.call("PUT", "password", { body: { current: PASSWORD, next: "the next password" } })).status).toBe(200);
    expect((await h.call("GET", "status")).status).toBe(200);
    expect((await h.call("GET", "status", { headers: { cookie: first } })).status).toBe(401);
  });
});

describe("rate limiting", () => {
  test("too many login attempts from a client get 429 with Retry-After, even with the right password", async () => {
    const clock = manualClock(Date.parse("2026-03-01T00:00:00Z"));
    h = adminHarness({ clock, options: { attemptLimit: { max: 3, windowMs: 60_000 } } });
    await h.pair(PASSWORD);
    h.forget();
    for (let i = 0; i < 3; i++) expect((await h.call("POST", "login", { body: { password: `wrong ${i} password` } })).status).toBe(401);
    const limited = await h.call("POST", "login", { body: { password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    clock.set(clock.now() + 60_001);
    expect((await h.call("POST", "login", { body: { password: PASSWORD } })).status).toBe(200);
  });

  test("pairing guesses are limited too, and parallel guesses cannot slip past the limit", async () => {
    h = adminHarness({ options: { attemptLimit: { max: 5, windowMs: 60_000 } } });
    await h.admin.start();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => h.call("POST", "pairing", { body: { code: `2222-22${22 + i}`, password: PASSWORD } })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });
});

describe("pairing code limits", () => {
  test("a code is burned after too many wrong guesses from anywhere", async () => {
    h = adminHarness();
    await h.admin.start();
    const code = h.pairingCode();
    const { PAIRING_MAX_FAILURES } = await import("../../runtime/admin/credentials.ts");
    h.db.prepare("UPDATE admin_pairing SET failures = ?").run(PAIRING_MAX_FAILURES - 1);
    expect((await h.call("POST", "pairing", { body: { code: "2222-2222", password: PASSWORD } })).status).toBe(401);
    expect((await h.call("GET", "session")).json.pairingOpen).toBe(false);
    expect((await h.call("POST", "pairing", { body: { code, password: PASSWORD } })).status).toBe(403);
  });
});
