/** The API docs page in real headless Chromium: it renders every route from the local document, with no outside requests. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ADMIN_ROUTES } from "../../runtime/admin/route-table.ts";
import { launchChromium } from "../web/browser.ts";
import { adminHarness, type AdminHarness } from "./harness.ts";

let h: AdminHarness;
let server: ReturnType<typeof Bun.serve>;
let browser: Browser;

beforeAll(async () => {
  h = adminHarness();
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: h.app.fetch });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.stop(true);
  h?.close();
});

test("renders every route of the admin API", async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`http://127.0.0.1:${server.port}/admin/api/docs`);
  await page.waitForSelector(".op");
  expect(await page.locator(".op").count()).toBe(Object.keys(ADMIN_ROUTES).length);
  expect(await page.locator("h1").textContent()).toContain("Hearth admin API");
  expect(await page.getByText("Loading…").count()).toBe(0);
  expect(await page.getByText("/admin/api/keys/{id}/usage").count()).toBe(1);
  expect(problems).toEqual([]);
  expect(requests.every((u) => u.startsWith(`http://127.0.0.1:${server.port}/`))).toBe(true);
  const dir = join(import.meta.dir, "..", "artifacts", "admin");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, "api-docs.png"), fullPage: false });
});
