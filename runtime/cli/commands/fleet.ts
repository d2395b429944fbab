import type { Command } from "../command.ts";

/** `hearth fleet collect|devices|audit`: the fleet collector and its reports. */
export const fleetCollectorCommands: Command[] = [];
