import type { Command } from "../command.ts";

/** `hearth license audit|verify-audit`: signed usage reports and their offline verification. */
export const licenseAuditCommands: Command[] = [];
