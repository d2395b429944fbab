/**
 * The admin page on a phone-sized screen (390×844, touch): pairing and every section fit the
 * width without sideways scrolling, buttons are large enough to tap, tables stack into labelled
 * rows, and the chart is drawn at the phone's width. Screenshots go to tests/artifacts/web.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { TestServer } from "../helpers/server.ts";
import { horizontalOverflow, openAdminPage, pairOnPage, screenshot, STEP_MS, type AdminPageRun, type PageWatch } from "./browser.ts";

const PHONE = { width: 390, height: 844 };
let run: AdminPageRun;
let server: TestServer;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  run = await openAdminPage({ context: { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true } });
  ({ server, page, watch } = run);
}, 60_000);
afterAll(() => run?.close());

/** Visible buttons shorter than a comfortable touch target (44 px), by their text. */
async function smallButtons(): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("button")]
      .filter((b) => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
      .map((b) => b.textContent ?? ""),
  );
}

async function fitsThePhone(name: string): Promise<void> {
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  expect(await smallButtons()).toEqual([]);
  await screenshot(page, `phone-${name}`);
}

describe("admin page on a phone", () => {
  test("pairing fits the screen", async () => {
    await page.goto(`${server.url}/admin/`);
    await page.getByRole("heading", { level: 1, name: "Set up this box" }).waitFor();
    await fitsThePhone("01-pairing");
    await pairOnPage(run, "phone-admin-pass");
  }, STEP_MS);

  test("the dashboard stacks its cards and draws the chart at the phone's width", async () => {
    await page.getByRole("meter", { name: /Memory/ }).waitFor();
    await page.getByRole("img", { name: /Tokens per day/ }).waitFor();
    const chartWidth = await page.locator(".chart-canvas svg").evaluate((svg) => svg.getBoundingClientRect().width);
    expect(chartWidth).toBeGreaterThan(200);
    expect(chartWidth).toBeLessThanOrEqual(PHONE.width);
    // One column: every card starts at the same left edge.
    const lefts = await page.locator("main .card").evaluateAll((cards) => cards.map((c) => Math.round(c.getBoundingClientRect().left)));
    expect(new Set(lefts).size).toBe(1);
    await fitsThePhone("02-dashboard");
  }, STEP_MS);

  test("every section fits the width; the sections scroll sideways in their own strip", async () => {
    const strip = page.getByRole("navigation", { name: "Sections" });
    const sections = await strip.getByRole("link").allTextContents();
    expect(sections.length).toBeGreaterThan(5);
    for (const [i, name] of sections.entries()) {
      const link = strip.getByRole("link", { name, exact: true });
      await link.scrollIntoViewIfNeeded();
      await link.tap();
      await page.getByRole("heading", { level: 1, name }).waitFor();
      await page.waitForFunction(() => !document.querySelector("main")?.textContent?.includes("Loading…"));
      await fitsThePhone(`${String(i + 3).padStart(2, "0")}-${name.toLowerCase().replace(/\W+/g, "-")}`);
    }
  }, STEP_MS);

  test("a created key is readable and the keys table stacks into labelled rows", async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "API keys" }).tap();
    await page.getByLabel("Name", { exact: true }).fill("phone app");
    await page.getByRole("button", { name: "Create key" }).tap();
    const key = page.getByLabel("API key", { exact: true });
    await key.waitFor();
    const box = (await key.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    const cell = page.getByRole("row").filter({ hasText: "phone app" }).getByRole("cell").first();
    expect(await cell.evaluate((td) => getComputedStyle(td).display)).toBe("grid");
    expect(await cell.evaluate((td) => getComputedStyle(td, "::before").content)).toBe('"Name"');
    await fitsThePhone("20-keys-created");
    expect(watch.problems).toEqual([]);
  }, STEP_MS);
});
