import { Hono } from "hono";
import { HearthError } from "../../errors.ts";
import type { InferenceDeps, InferenceEnv } from "./shared.ts";

export function modelRoutes(deps: InferenceDeps) {
  const describe = () => ({ id: deps.engine.model.id, object: "model", created: deps.engine.model.createdAt, owned_by: "hearth" });
  return new Hono<InferenceEnv>()
    .get("/models", (c) => c.json({ object: "list", data: [describe()] }))
    .get("/models/:id", (c) => {
      if (c.req.param("id") !== deps.engine.model.id) {
        throw new HearthError("model_not_found", `model ${JSON.stringify(c.req.param("id"))} does not exist`, { field: "model" });
      }
      return c.json(describe());
    });
}
