import { Hono } from "hono";
import type { InferenceEngine } from "../../engine/types.ts";
import { engineFor, type InferenceDeps, type InferenceEnv } from "./shared.ts";

export function modelRoutes(deps: InferenceDeps) {
  const describe = (engine: InferenceEngine) => ({ id: engine.model.id, object: "model", created: engine.model.createdAt, owned_by: "hearth" });
  return new Hono<InferenceEnv>()
    .get("/models", (c) => c.json({ object: "list", data: [describe(deps.models.current())] }))
    .get("/models/:id", (c) => c.json(describe(engineFor(deps, c.req.param("id")))));
}
