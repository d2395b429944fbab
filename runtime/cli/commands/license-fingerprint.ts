import type { Command } from "../command.ts";

/** `hearth license fingerprint`: what a reseller sends to obtain a license. */
export const licenseFingerprintCommands: Command[] = [];
