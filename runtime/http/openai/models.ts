import { Hono } from "hono";
import type { InferenceEngine } from "../../engine/types.ts";
import { engineFor, type InferenceDeps, type InferenceEnv } from "./shared.ts";

export function modelRoutes(deps: InferenceDeps) {
  const describe = (engine: InferenceEngine) => ({ id: engine.model.id, object: "model", created: engine.model.createdAt, owned_by: "hearth" });
  return new Hono<InferenceEnv>()
    .get("/models", (c) => {
      deps.models.current(); // 503 while the primary loads, as with one model
      return c.json({ object: "list", data: deps.models.served().map(describe) });
    })
    .get("/models/:id", (c) => c.json(describe(engineFor(deps, c.req.param("id")))));
}
