/**
 * The admin page's main flow in real headless Chromium against a real server: pairing with the
 * code from the log (a wrong one refused on screen), the first password, logging out and in (a
 * wrong password refused), an API key created on the page and used by the OpenAI client, its
 * usage read back on the page, and the key revoked. Screenshots go to tests/artifacts/web.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import type { Page } from "playwright-core";
import type { TestServer } from "../helpers/server.ts";
import { alertWith, openAdminPage, openSection as openSectionOf, pairingCode, screenshot, STEP_MS, type AdminPageRun, type PageWatch } from "./browser.ts";

const PASSWORD = "hearth-admin-pass-1";
let run: AdminPageRun;
let server: TestServer;
let page: Page;
let watch: PageWatch;
/** The API key created on the page, read from the page. */
let pageKey = "";

beforeAll(async () => {
  run = await openAdminPage({ context: { viewport: { width: 1280, height: 900 } }, permissions: ["clipboard-read", "clipboard-write"] });
  ({ server, page, watch } = run);
}, 60_000);
afterAll(() => run?.close());

const alert = (text: RegExp) => alertWith(page, text);
const heading = (name: string) => page.getByRole("heading", { level: 1, name });
const openSection = (name: string) => openSectionOf(page, name);

describe("admin page flow in Chromium", () => {
  test("pairing: a wrong code is refused on screen, the right one sets the password and opens the dashboard", async () => {
    const res = await page.goto(`${server.url}/`);
    expect(res!.headers()["content-security-policy"]).toContain("default-src 'self'");
    await heading("Set up this box").waitFor();
    await screenshot(page, "01-pairing");

    await page.getByLabel("Pairing code").fill("ZZZZ-ZZZZ");
    await page.getByLabel("New admin password").fill(PASSWORD);
    await page.getByLabel("Repeat the password").fill(PASSWORD);
    await page.getByRole("button", { name: "Pair and set password" }).click();
    const refused = alert(/wrong pairing code/i);
    await refused.waitFor();
    expect(await refused.isVisible()).toBe(true);
    // Shown next to the code field, which is marked invalid and named by the message.
    const codeField = page.getByLabel("Pairing code");
    expect(await codeField.getAttribute("aria-invalid")).toBe("true");
    expect(await codeField.getAttribute("aria-describedby")).toContain(await refused.getAttribute("id"));
    await screenshot(page, "02-pairing-refused");

    await codeField.fill(pairingCode(server.logs));
    await page.getByRole("button", { name: "Pair and set password" }).click();
    await heading("Dashboard").waitFor();
    await page.getByText(/tokens in \d+ requests/).waitFor();
    await page.getByRole("meter", { name: /CPU load/ }).waitFor();
    await page.getByText(server.engine.model.id, { exact: true }).waitFor();
    await screenshot(page, "03-dashboard");
  }, STEP_MS);

  test("log out, a wrong password is refused on screen, the right one logs in", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await heading("Log in").waitFor();
    await page.getByLabel("Admin password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await alert(/wrong password/i).waitFor();
    expect(await page.getByLabel("Admin password").getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "04-login-refused");
    // The refused login left no session: the API still says so.
    const session = await page.evaluate(async () => (await fetch("/admin/api/session")).json());
    expect(session.authenticated).toBe(false);

    await page.getByLabel("Admin password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await heading("Dashboard").waitFor();
  }, STEP_MS);

  test("an API key created on the page works with the OpenAI client, and its usage shows on the page", async () => {
    await openSection("API keys");
    await page.getByLabel("Name", { exact: true }).fill("front-desk app");
    await page.getByRole("button", { name: "Create key" }).click();
    const keyField = page.getByLabel("API key", { exact: true });
    await keyField.waitFor();
    pageKey = await keyField.inputValue();
    expect(pageKey.length).toBeGreaterThan(20);
    await page.getByRole("region", { name: "New API key" }).getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(pageKey);
    await screenshot(page, "05-keys-created");

    const client = new OpenAI({ apiKey: pageKey, baseURL: server.api, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: server.engine.model.id, messages: [{ role: "user", content: "Hello" }], max_tokens: 6 });
    const tokens = answer.usage!.total_tokens;
    expect(tokens).toBeGreaterThan(0);

    // The list refreshes on the page: the key's row shows the request and its tokens.
    await page.getByRole("button", { name: "Done" }).click();
    await openSection("Dashboard");
    await openSection("API keys");
    const row = page.getByRole("row").filter({ hasText: "front-desk app" });
    await row.getByRole("cell", { name: "1", exact: true }).waitFor();
    await row.getByRole("cell", { name: tokens.toLocaleString("en-US"), exact: true }).waitFor();
    await page.getByRole("button", { name: "Usage of front-desk app" }).click();
    const totals = page.getByTestId("key-usage-totals");
    await totals.waitFor();
    expect(await totals.textContent()).toBe(`1 requests, ${tokens.toLocaleString("en-US")} tokens`);
    await screenshot(page, "06-keys-usage");

    await openSection("Usage");
    const usageRow = page.getByRole("row").filter({ hasText: "front-desk app" });
    await usageRow.waitFor();
    expect(await usageRow.getByRole("cell").allTextContents()).toEqual(["front-desk app", "1", answer.usage!.prompt_tokens.toLocaleString("en-US"), answer.usage!.completion_tokens.toLocaleString("en-US")]);
    // Today's bar carries the key's tokens, split as the API reported them.
    const bars = await page.getByRole("img", { name: /Tokens per day/ }).locator("rect title").allTextContents();
    expect(bars.at(-2)).toEndWith(`Prompt tokens: ${answer.usage!.prompt_tokens}`);
    expect(bars.at(-1)).toEndWith(`Completion tokens: ${answer.usage!.completion_tokens}`);
    await screenshot(page, "07-usage");

    await openSection("Dashboard");
    await page.getByText(`${tokens.toLocaleString("en-US")} tokens in 1 requests`).waitFor();
  }, STEP_MS);

  test("names are shown as text, never as markup", async () => {
    await openSection("API keys");
    const name = `<img src=x onerror="document.body.dataset.injected='1'">`;
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("row").filter({ hasText: name }).waitFor();
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.injected)).toBeUndefined();
    await page.getByRole("button", { name: "Done" }).click();
  }, STEP_MS);

  test("a key revoked on the page stops working", async () => {
    await openSection("API keys");
    await page.getByRole("button", { name: "Revoke front-desk app" }).click();
    const dialog = page.getByRole("dialog", { name: /Revoke/ });
    await dialog.waitFor();
    await screenshot(page, "08-keys-revoke-confirm");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("row").filter({ hasText: "front-desk app" }).getByText(/^revoked/).waitFor();
    const res = await fetch(`${server.api}/models`, { headers: { authorization: `Bearer ${pageKey}` } });
    expect(res.status).toBe(401);
  }, STEP_MS);

  test("nothing in the page failed or broke its Content Security Policy", () => {
    expect(watch.problems).toEqual([]);
  });
});
