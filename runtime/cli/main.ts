#!/usr/bin/env bun
import { runCli } from "./run.ts";
import type { Command } from "./command.ts";
import { serveCommand } from "./commands/serve.ts";
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from "./commands/keys.ts";
import { modelInfoCommand, modelSynthCommand, modelSynthLoraCommand } from "./commands/model.ts";
import { modelFitCommand } from "./commands/model-fit.ts";
import { boardCommand } from "./commands/board.ts";
import { kernelsCommand } from "./commands/kernels.ts";
import { calibrateCommand } from "./commands/calibrate.ts";
import { licenseCommands } from "./commands/license.ts";
import { licenseFingerprintCommands } from "./commands/license-fingerprint.ts";
import { licenseAuditCommands } from "./commands/license-audit.ts";
import { fleetCollectorCommands } from "./commands/fleet.ts";
import { fleetCommandCommands } from "./commands/fleet-command.ts";
import { adminCommands } from "./commands/admin.ts";
import { fleetOtaCommands } from "./commands/fleet-ota.ts";

export const COMMANDS: Command[] = [serveCommand, keysCreateCommand, keysListCommand, keysRevokeCommand, modelSynthCommand, modelSynthLoraCommand, modelInfoCommand, modelFitCommand, boardCommand, kernelsCommand, calibrateCommand, ...licenseCommands, ...licenseFingerprintCommands, ...licenseAuditCommands, ...fleetCollectorCommands, ...fleetCommandCommands, ...adminCommands, ...fleetOtaCommands];

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), COMMANDS, {
    out: (text) => process.stdout.write(text + "\n"),
    err: (text) => process.stderr.write(text + "\n"),
    env: process.env,
  });
  process.exitCode = code;
}
