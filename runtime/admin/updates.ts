/**
 * The seam OTA updates plug into: an UpdateService passed as AdminDeps.updates. Until one is, the
 * update routes answer 501 not_implemented and change nothing.
 */
import { HearthError } from "../errors.ts";
import type { AdminHandlers } from "./router.ts";
import type { ApplyUpdateRequest, UpdatesState } from "./schemas/updates.ts";

export interface UpdateService {
  state(): Promise<UpdatesState> | UpdatesState;
  check(): Promise<UpdatesState>;
  apply(request: ApplyUpdateRequest): Promise<UpdatesState>;
  rollback(): Promise<UpdatesState>;
}

function service(updates: UpdateService | undefined): UpdateService {
  if (updates) return updates;
  throw new HearthError("not_implemented", "over-the-air updates are not available on this runtime yet; nothing was checked or changed");
}

export function updateHandlers(updates: UpdateService | undefined): Pick<AdminHandlers, "getUpdates" | "checkUpdates" | "applyUpdate" | "rollbackUpdate"> {
  return {
    getUpdates: () => service(updates).state(),
    checkUpdates: () => service(updates).check(),
    applyUpdate: ({ body }) => service(updates).apply(body),
    rollbackUpdate: () => service(updates).rollback(),
  };
}
