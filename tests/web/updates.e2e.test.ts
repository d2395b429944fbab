/**
 * The updates screen once an update service is plugged in (OTA lands separately; until then the
 * API answers 501, covered in admin-page.e2e.test.ts): state, a progress bar that follows the
 * download, and the check, apply and rollback buttons reaching the service. The service here is
 * scripted, standing in for the OTA agent that does not exist in this runtime yet.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { UpdateService } from "../../runtime/admin/updates.ts";
import type { UpdatesState } from "../../runtime/admin/schemas/updates.ts";
import { openAdminPage, pairOnPage, screenshot, STEP_MS, type AdminPageRun } from "./browser.ts";

/** idle → (check) 1.3.0 available → (apply) downloading, 50 % per read → staged → (rollback) rolled-back. */
function scriptedUpdates(): UpdateService & { calls: string[] } {
  let state: UpdatesState = { state: "idle", current: "1.2.0", available: null, progress: null, message: null };
  const calls: string[] = [];
  return {
    calls,
    state() {
      if (state.state === "downloading") {
        const progress = Math.min(1, (state.progress ?? 0) + 0.5);
        state = progress < 1 ? { ...state, progress } : { ...state, state: "staged", progress: null, message: "1.3.0 applies at the next restart" };
      }
      return state;
    },
    async check() {
      calls.push("check");
      state = { ...state, available: "1.3.0", message: "1.3.0 is available" };
      return state;
    },
    async apply(request) {
      calls.push(`apply ${request.release ?? "available"}`);
      state = { ...state, state: "downloading", progress: 0, message: null };
      return state;
    },
    async rollback() {
      calls.push("rollback");
      state = { state: "rolled-back", current: "1.2.0", available: "1.3.0", progress: null, message: "back on 1.2.0" };
      return state;
    },
  };
}

const updates = scriptedUpdates();
let run: AdminPageRun;
let page: Page;

beforeAll(async () => {
  run = await openAdminPage({ deps: { admin: { updates } }, context: { viewport: { width: 1024, height: 800 } } });
  page = run.page;
  await pairOnPage(run, "updates-admin-pass");
}, 60_000);
afterAll(() => run?.close());

describe("updates screen with an update service", () => {
  test("check finds a release, apply shows the download's progress, rollback asks first", async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Updates" }).click();
    await page.getByText("none newer").waitFor();
    expect(await page.getByRole("button", { name: "Apply update" }).isDisabled()).toBe(true);

    await page.getByRole("button", { name: "Check for updates" }).click();
    await page.getByText("1.3.0 is available").waitFor();
    await page.getByRole("button", { name: "Apply update" }).click();
    const bar = page.getByRole("progressbar");
    await bar.waitFor();
    // The page polls the state every 2 s; each read moves the scripted download on by 50 %.
    const seen = new Set<string>();
    while (!(await page.getByText("1.3.0 applies at the next restart").isVisible())) {
      if (await bar.isVisible()) seen.add((await bar.getAttribute("value")) ?? "");
      if (seen.size === 1) await screenshot(page, "15-updates-progress");
      await page.waitForTimeout(250);
    }
    expect([...seen].filter((v) => Number(v) > 0 && Number(v) < 1).length).toBeGreaterThan(0);

    await page.getByRole("button", { name: "Roll back" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Roll back" }).click();
    await page.getByText("back on 1.2.0").waitFor();
    await screenshot(page, "16-updates-rolled-back");
    expect(updates.calls).toEqual(["check", "apply available", "rollback"]);
  }, STEP_MS);
});
