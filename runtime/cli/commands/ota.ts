import type { Command } from "../command.ts";

/** `hearth ota status | check | apply | rollback`: the box's update agent (issue 6). */
export const otaCommands: Command[] = [];
