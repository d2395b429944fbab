import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HearthError } from "../errors.ts";
import type { ApiKeyStore } from "../store/api-keys.ts";
import { apiKeyAuth } from "./auth.ts";
import { errorResponse } from "./errors.ts";
import { chatRoutes } from "./openai/chat.ts";
import { completionRoutes } from "./openai/completions.ts";
import { embeddingRoutes } from "./openai/embeddings.ts";
import { modelRoutes } from "./openai/models.ts";
import type { InferenceDeps, InferenceEnv } from "./openai/shared.ts";
import { metricsRoute, type MetricsRouteOptions } from "../metrics/route.ts";
import { adminPageRoutes } from "../web/routes.ts";

export interface AppDeps extends InferenceDeps {
  keys: ApiKeyStore;
  /** The license tier in force and why (null until loading has read it); shown on /readyz. */
  license?: () => { tier: string; reason: string } | null;
  openInference: boolean;
  bodyLimitBytes: number;
  /** GET /metrics (and who may scrape it) and the counter of API answers; absent, no metrics. */
  metrics?: MetricsRouteOptions & { countHttp: MiddlewareHandler };
  /** The admin API (runtime/admin), mounted at /admin/api; absent, no admin API. */
  admin?: Hono;
}

export function createApp(deps: AppDeps): Hono<InferenceEnv> {
  const app = new Hono<InferenceEnv>();
  app.onError((err, c) => errorResponse(c, err, deps.logger));
  app.notFound((c) => errorResponse(c, new HearthError("not_found", `no route ${c.req.method} ${c.req.path}`), deps.logger));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Ready means the primary takes requests; `models` lists every configured model with its state.
  app.get("/readyz", (c) => {
    const status = deps.models.status();
    const models = deps.models.models();
    const license = deps.license?.() ?? null;
    if (status.state !== "ready") return c.json({ status: status.state, ...status, models, license }, 503);
    const engine = deps.models.current();
    const ready = engine.canAccept();
    const { id, settings, kernel } = engine.model;
    return c.json({ status: ready ? "ready" : "busy", model: id, slots: engine.slots(), settings, kernel, adapters: engine.model.adapters, models, license }, ready ? 200 : 503);
  });

  if (deps.metrics) app.route("/", metricsRoute(deps.metrics));
  // Before the admin page's routes, which serve /admin/.
  if (deps.admin) app.route("/admin/api", deps.admin);

  const v1 = new Hono<InferenceEnv>();
  // Before authentication, so refused requests are counted too.
  if (deps.metrics) v1.use(deps.metrics.countHttp);
  v1.use(apiKeyAuth(deps.keys, deps.openInference));
  v1.use(
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new HearthError("payload_too_large", `request body is larger than the limit of ${deps.bodyLimitBytes} bytes`);
      },
    }),
  );
  v1.route("/", modelRoutes(deps));
  v1.route("/", chatRoutes(deps));
  v1.route("/", completionRoutes(deps));
  v1.route("/", embeddingRoutes(deps));
  app.route("/v1", v1);
  // The admin page at / and /admin/; its bundle is built on first request (runtime/web).
  app.route("/", adminPageRoutes());
  return app;
}
