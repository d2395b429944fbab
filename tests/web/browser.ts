/**
 * Headless Chromium for the admin page's tests: Debian's `chromium` driven by playwright-core (no
 * browser download), screenshots under tests/artifacts/web (ignored by git), and a watch on
 * what must never happen in the page: uncaught errors and Content-Security-Policy violations.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import type { ServerDeps } from "../../runtime/server.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** CHROMIUM_PATH, else the usual Debian/Ubuntu locations; throws naming what to install. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`Chromium not found (looked in ${CANDIDATES.join(", ")}): install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  return found;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: the tests run as root in CI containers, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
}

export const ARTIFACTS = join(import.meta.dir, "..", "artifacts", "web");

/** Saves a full-page screenshot as tests/artifacts/web/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface PageWatch {
  /** Uncaught exceptions and CSP violations seen so far. */
  problems: string[];
}

/**
 * Chromium reports a CSP violation on the console ("Refused to … because it violates the following
 * Content Security Policy directive"). Failed fetches (401 for a wrong password, 501 for updates)
 * are expected answers the page shows, so they are not problems.
 */
export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { problems: [] };
  page.on("pageerror", (err) => watch.problems.push(`uncaught: ${err.message}`));
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) watch.problems.push(`csp: ${msg.text()}`);
  });
  return watch;
}

/** The pairing codes the server logged (`pairing code: XXXX-XXXX`), oldest first. */
export function pairingCodes(logs: string[]): string[] {
  return logs.map((line) => /pairing code: ([A-Za-z0-9-]+)/.exec(line)?.[1]).filter((c): c is string => c !== undefined);
}

/** The latest pairing code the server logged. */
export function pairingCode(logs: string[]): string {
  const code = pairingCodes(logs).at(-1);
  if (!code) throw new Error(`no "pairing code:" line in the server log:\n${logs.slice(-20).join("\n")}`);
  return code;
}

/** The document is no wider than the viewport: nothing forces sideways scrolling on a phone. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Each step drives several screens; argon2id hashing and model start-up are not instant. */
export const STEP_MS = 30_000;

export interface AdminPageRun {
  server: TestServer;
  browser: Browser;
  page: Page;
  watch: PageWatch;
  close(): Promise<void>;
}

/** A real server and one Chromium (one launch per test file) with a page in a context of these options. */
export async function openAdminPage(options: { flags?: Record<string, unknown>; deps?: Partial<ServerDeps>; context: BrowserContextOptions; permissions?: string[] }): Promise<AdminPageRun> {
  const [server, browser] = await Promise.all([startTestServer(options.flags, undefined, options.deps), launchChromium()]);
  const context = await browser.newContext({ locale: "en-US", ...options.context });
  if (options.permissions) await context.grantPermissions(options.permissions, { origin: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return {
    server,
    browser,
    page,
    watch: watchPage(page),
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}

/** Pairs a fresh box on the page with the code from its log and lands on the dashboard. */
export async function pairOnPage(run: AdminPageRun, password: string): Promise<void> {
  const { page, server } = run;
  await page.goto(`${server.url}/admin/`);
  await page.getByLabel("Pairing code").fill(pairingCode(server.logs));
  await page.getByLabel("New admin password").fill(password);
  await page.getByLabel("Repeat the password").fill(password);
  await page.getByRole("button", { name: "Pair and set password" }).click();
  await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
}

/** An alert on the page whose text matches. */
export const alertWith = (page: Page, text: RegExp) => page.getByRole("alert").filter({ hasText: text });

/** Follows a link of the section navigation and waits for that section's heading. */
export async function openSection(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}
