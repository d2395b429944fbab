import type { Command } from "../command.ts";

/** `hearth fleet command|keygen`: signing and sending fleet commands. */
export const fleetCommandCommands: Command[] = [];
