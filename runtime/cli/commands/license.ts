import type { Command } from "../command.ts";

/** `hearth license keygen|issue|verify|install|status` (vendor tools and the device's license). */
export const licenseCommands: Command[] = [];
