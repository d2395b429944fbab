/**
 * The admin page's other screens in real headless Chromium against a real server: license,
 * updates (the API's 501), telemetry, logs, access and system, each with its refusals shown next
 * to the field at fault, and a password change ending the other sessions. Screenshots go to
 * tests/artifacts/web.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { TEST_VENDOR_KEYS, testLicense } from "../helpers/licenses.ts";
import type { TestServer } from "../helpers/server.ts";
import { alertWith, openAdminPage, openSection as openSectionOf, pairingCodes, pairOnPage, screenshot, STEP_MS, type AdminPageRun, type PageWatch } from "./browser.ts";

const PASSWORD = "hearth-admin-pass-2";
let run: AdminPageRun;
let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  run = await openAdminPage({ flags: { "license.vendorKeys": TEST_VENDOR_KEYS }, context: { viewport: { width: 1280, height: 900 } } });
  ({ server, browser, page, watch } = run);
  await pairOnPage(run, PASSWORD);
}, 60_000);
afterAll(() => run?.close());

const alert = (text: RegExp) => alertWith(page, text);
const openSection = (name: string) => openSectionOf(page, name);

describe("admin page screens in Chromium", () => {
  test("license: status and fingerprint; a file that is not a license is refused next to the field; a valid one installs", async () => {
    await openSection("License");
    await page.getByText("Community", { exact: true }).waitFor();
    const fingerprint = await page.getByLabel("Hardware fingerprint").inputValue();
    expect(fingerprint).toMatch(/^hfp1/);
    const file = page.getByLabel("License file");
    await file.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await page.getByRole("button", { name: "Install license" }).click();
    await alert(/not a license file/).waitFor();
    expect(await file.getAttribute("aria-invalid")).toBe("true");

    await file.setInputFiles({ name: "license.json", mimeType: "application/json", buffer: Buffer.from(testLicense(["multi_model"], "lic-page")) });
    await page.getByRole("button", { name: "Install license" }).click();
    await page.getByRole("status").filter({ hasText: "License installed: lic-page" }).waitFor();
    await page.getByText("Harbour Clinic").waitFor();
    await screenshot(page, "09-license");
  }, STEP_MS);

  test("updates: the API's 501 is shown plainly and the buttons are disabled", async () => {
    await openSection("Updates");
    const notice = page.getByTestId("updates-unavailable");
    await notice.waitFor();
    const api = await page.evaluate(async () => (await fetch("/admin/api/updates")).json());
    expect(await notice.textContent()).toBe(api.error.message);
    for (const name of ["Check for updates", "Apply update", "Roll back"]) expect(await page.getByRole("button", { name }).isDisabled()).toBe(true);
    await screenshot(page, "10-updates");
  }, STEP_MS);

  test("telemetry: a bad broker URL is refused next to its field, a good one is stored", async () => {
    await openSection("Telemetry");
    const broker = page.getByLabel("Broker URL");
    await broker.fill("http://broker.example");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("alert").filter({ hasText: /broker/ }).waitFor();
    expect(await broker.getAttribute("aria-invalid")).toBe("true");
    await broker.fill("mqtt://broker.example:1883");
    await page.getByLabel("Send state and health to the fleet").check();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: /^Saved/ }).waitFor();
    const stored = await page.evaluate(async () => (await fetch("/admin/api/telemetry")).json());
    expect(stored.next).toMatchObject({ broker: "mqtt://broker.example:1883", enabled: true });
    await screenshot(page, "11-telemetry");
  }, STEP_MS);

  test("logs: recent records, never a key", async () => {
    await openSection("Logs");
    await page.getByRole("cell", { name: "listening" }).waitFor();
    expect(await page.locator("main").textContent()).not.toContain(server.key);
    await screenshot(page, "12-logs");
  }, STEP_MS);

  test("access: an admin token created on the page works for automation", async () => {
    await openSection("Access");
    await page.getByLabel("Token name").fill("reseller tool");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.getByLabel("Admin token", { exact: true }).inputValue();
    const status = await fetch(`${server.url}/admin/api/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    await screenshot(page, "13-access");
  }, STEP_MS);

  test("system: a setting out of its range is refused next to it, a good one is stored for the next restart", async () => {
    await openSection("System");
    const maxTokens = page.getByLabel("model.maxTokens");
    await maxTokens.fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await alert(/model\.maxTokens/).waitFor();
    expect(await maxTokens.getAttribute("aria-invalid")).toBe("true");
    await maxTokens.fill("512");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "apply at the next restart" }).waitFor();
    const stored = await page.evaluate(async () => (await fetch("/admin/api/settings")).json());
    expect(stored.settings.find((x: { path: string }) => x.path === "model.maxTokens")).toMatchObject({ stored: 512, inForce: 1024 });
    await screenshot(page, "14-system");
  }, STEP_MS);

  test("a password changed on the page ends the other sessions: their page returns to the login screen", async () => {
    const other = await browser.newContext({ locale: "en-US" });
    try {
      const second = await other.newPage();
      second.setDefaultTimeout(10_000);
      await second.goto(`${server.url}/admin/`);
      await second.getByLabel("Admin password").fill(PASSWORD);
      await second.getByRole("button", { name: "Log in" }).click();
      await second.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();

      await openSection("Access");
      await page.getByLabel("Current password").fill("wrong-current-password");
      await page.getByLabel("New password", { exact: true }).fill(`${PASSWORD}-2`);
      await page.getByLabel("Repeat the new password").fill(`${PASSWORD}-2`);
      await page.getByRole("button", { name: "Change password" }).click();
      await alert(/wrong current password/).waitFor();
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Change password" }).click();
      await page.getByRole("status").filter({ hasText: "Password changed" }).waitFor();

      // Its next call to the API is refused, and the page says why.
      await second.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "API keys" }).click();
      await second.getByRole("heading", { level: 1, name: "Log in" }).waitFor();
      await second.getByText("Your session has ended").waitFor();
      await second.getByLabel("Admin password").fill(`${PASSWORD}-2`);
      await second.getByRole("button", { name: "Log in" }).click();
      // Back where the user was.
      await second.getByRole("heading", { level: 1, name: "API keys" }).waitFor();
    } finally {
      await other.close();
    }
  }, STEP_MS);

  test("factory reset, confirmed on the page, leads back to pairing with a new code", async () => {
    const before = pairingCodes(server.logs).length;
    await openSection("System");
    await page.getByRole("button", { name: "Factory reset" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Factory reset" }).click();
    await page.getByText(/^Kept: /).waitFor();
    await screenshot(page, "17-factory-reset");
    expect(pairingCodes(server.logs).length).toBe(before + 1);
    await page.getByRole("button", { name: "Pair again" }).click();
    await page.getByRole("heading", { level: 1, name: "Set up this box" }).waitFor();
    await pairOnPage(run, "after-reset-pass");
  }, STEP_MS);

  test("nothing in the page failed or broke its Content Security Policy", () => {
    expect(watch.problems).toEqual([]);
  });
});
