/**
 * Run as a child process (a fresh module registry): starts a real server, uses its API, and reports
 * which admin-page modules were loaded before and after the page was first requested.
 */
import { startTestServer } from "../helpers/server.ts";

const loaded = () => Object.keys(require.cache).filter((path) => path.includes("/runtime/web/") && !path.endsWith("/runtime/web/routes.ts"));

const server = await startTestServer();
const api = await Promise.all(["/healthz", "/readyz", "/v1/models", "/admin/api/session"].map(async (path) => (await fetch(server.url + path, { headers: { authorization: `Bearer ${server.key}` } })).status));
const before = loaded();
const page = await fetch(server.url + "/");
await page.text();
const after = loaded();
await server.stop();
console.log(JSON.stringify({ api, before, pageStatus: page.status, after }));
