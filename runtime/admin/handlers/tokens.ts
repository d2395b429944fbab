/** Admin tokens from the API (the CLI has `hearth admin token …`). */
import type { AdminDeps } from "../deps.ts";
import type { AdminHandlers } from "../router.ts";

export function tokenHandlers(deps: AdminDeps): Pick<AdminHandlers, "listTokens" | "createToken" | "revokeToken"> {
  const { tokens } = deps.auth;
  return {
    listTokens: () => ({ tokens: tokens.list() }),
    createToken: ({ body }) => {
      const created = tokens.create(body.name);
      deps.logger.info("admin token created", { token_id: created.id, name: created.name });
      return created;
    },
    revokeToken: ({ params }) => {
      const revoked = tokens.revoke(params.id);
      deps.logger.info("admin token revoked", { token_id: revoked.id });
      return revoked;
    },
  };
}
