import { afterAll, beforeAll, expect, test } from "bun:test";
import { postJson, startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ "auth.openInference": true, "model.embeddings": false });
});
afterAll(() => server.stop());

test("with auth.openInference, requests without a key are served and metered without a key id", async () => {
  const res = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { authorization: "" });
  expect(res.status).toBe(200);
  expect(server.ledger.byRequestId(res.json.id)?.keyId).toBeNull();
  // A key that is presented must still be valid.
  const bad = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: "hi" }] }, { authorization: "Bearer hth_wrong" });
  expect(bad.status).toBe(401);
  // A valid key is still attributed.
  const keyed = await postJson(server, "/chat/completions", { model: server.engine.model.id, messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
  expect(server.ledger.byRequestId(keyed.json.id)?.keyId).toBe(server.keyId);
});

test("a model not configured for embeddings answers a clear 400", async () => {
  const res = await postJson(server, "/embeddings", { model: server.engine.model.id, input: "hello" });
  expect(res.status).toBe(400);
  expect(res.json.error.code).toBe("embeddings_unsupported");
  expect(res.json.error.param).toBe("model");
  expect(res.json.error.message).toContain("embeddings");
});
