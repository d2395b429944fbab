/**
 * The admin API as a Hono app (mounted at /admin/api by runtime/http/app.ts): the route table's
 * handlers bound to the running box. Errors go through the runtime's one error mapping, which
 * answers {"error":{"code","message","field"}} under /admin/.
 */
import type { Hono } from "hono";
import type { AdminDeps } from "./deps.ts";
import { DOCS_CSP, DOCS_HTML } from "./docs-page.ts";
import { authHandlers } from "./handlers/auth.ts";
import { keyHandlers } from "./handlers/keys.ts";
import { licenseHandlers } from "./handlers/license.ts";
import { statusHandlers } from "./handlers/status.ts";
import { systemHandlers } from "./handlers/system.ts";
import { tokenHandlers } from "./handlers/tokens.ts";
import { adminOpenApi } from "./openapi.ts";
import { adminRouter, type AdminHandlers } from "./router.ts";
import { updateHandlers } from "./updates.ts";

export function adminApp(deps: AdminDeps): Hono {
  let openapi: object | null = null;
  const handlers: AdminHandlers = {
    ...authHandlers(deps.auth, deps.logger),
    ...statusHandlers(deps),
    ...keyHandlers(deps),
    ...licenseHandlers(deps),
    ...updateHandlers(deps.updates),
    ...systemHandlers(deps),
    ...tokenHandlers(deps),
    openapi: ({ c }) => c.json((openapi ??= adminOpenApi(deps.version))),
    docs: ({ c }) => c.html(DOCS_HTML, 200, { "Content-Security-Policy": DOCS_CSP }),
  };
  return adminRouter(handlers, deps.auth);
}
