import type { Command } from "../command.ts";

/** `hearth admin …`: admin tokens for automation (issue 7). */
export const adminCommands: Command[] = [];
