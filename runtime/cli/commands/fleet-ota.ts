import type { Command } from "../command.ts";

/** `hearth fleet publish | serve-repo | rollout | root …`: the OTA release repository (issue 6). */
export const fleetOtaCommands: Command[] = [];
