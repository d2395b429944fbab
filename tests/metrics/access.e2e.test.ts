import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { AdminTokenStore } from "../../runtime/admin/tokens.ts";
import { systemClock } from "../../runtime/clock.ts";
import { HearthError } from "../../runtime/errors.ts";
import { CONTENT_TYPE } from "../../runtime/metrics/exposition.ts";

const scrape = (server: TestServer, authorization?: string) => fetch(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });

describe("metrics.access token (the default)", () => {
  let server: TestServer;
  let tokens: AdminTokenStore;
  beforeAll(async () => {
    server = await startTestServer();
    tokens = new AdminTokenStore(server.db, systemClock);
  });
  afterAll(() => server.stop());

  test("is the default", () => {
    expect(loadConfig({}).metrics.access).toBe("token");
  });

  test("without a token, with a bad one, an API key or a revoked token: 401 and no figures", async () => {
    const revoked = tokens.create("old scraper");
    tokens.revoke(revoked.id);
    for (const authorization of [undefined, "Bearer hadm_not_a_token", "Basic Zm9vOmJhcg==", `Bearer ${server.key}`, `Bearer ${revoked.token}`]) {
      const res = await scrape(server, authorization);
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body.error.code).toBe("unauthorized");
      expect(JSON.stringify(body)).not.toContain("hearth_");
    }
  });

  test("with an admin token: 200 and the scrape", async () => {
    const { token } = tokens.create("prometheus");
    const res = await scrape(server, `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(CONTENT_TYPE);
    expect(await res.text()).toContain("# TYPE hearth_inference_requests_total counter");
  });
});

describe("metrics.access lan", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ "metrics.access": "lan" });
  });
  afterAll(() => server.stop());

  test("anyone who reaches the port may scrape", async () => {
    const res = await scrape(server);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("hearth_model_slots{");
  });
});

test("an unknown access mode is refused at start, naming the setting", () => {
  try {
    loadConfig({ env: { HEARTH_METRICS_ACCESS: "everyone" } });
    throw new Error("expected the config to be refused");
  } catch (err) {
    expect(err).toBeInstanceOf(HearthError);
    expect((err as HearthError).message).toContain("metrics.access");
  }
});
