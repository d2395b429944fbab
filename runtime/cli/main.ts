#!/usr/bin/env bun
import { runCli } from "./run.ts";
import type { Command } from "./command.ts";

/**
 * Command modules by their first word, imported on demand: `hearth serve` loads serve's module
 * alone, so the long-running appliance does not carry every other command's imports (the fleet
 * collector's MQTT client, the model synthesizer, ...) in its resident memory.
 */
const COMMAND_MODULES: Record<string, () => Promise<Command[]>> = {
  serve: async () => [(await import("./commands/serve.ts")).serveCommand],
  keys: async () => {
    const m = await import("./commands/keys.ts");
    return [m.keysCreateCommand, m.keysListCommand, m.keysRevokeCommand];
  },
  model: async () => {
    const [m, fit] = await Promise.all([import("./commands/model.ts"), import("./commands/model-fit.ts")]);
    return [m.modelSynthCommand, m.modelSynthLoraCommand, m.modelInfoCommand, fit.modelFitCommand];
  },
  board: async () => [(await import("./commands/board.ts")).boardCommand],
  kernels: async () => [(await import("./commands/kernels.ts")).kernelsCommand],
  calibrate: async () => [(await import("./commands/calibrate.ts")).calibrateCommand],
  license: async () => {
    const [m, fp, audit] = await Promise.all([import("./commands/license.ts"), import("./commands/license-fingerprint.ts"), import("./commands/license-audit.ts")]);
    return [...m.licenseCommands, ...fp.licenseFingerprintCommands, ...audit.licenseAuditCommands];
  },
  fleet: async () => {
    const [collector, command, ota] = await Promise.all([import("./commands/fleet.ts"), import("./commands/fleet-command.ts"), import("./commands/fleet-ota.ts")]);
    return [...collector.fleetCollectorCommands, ...command.fleetCommandCommands, ...ota.fleetOtaCommands];
  },
  admin: async () => [...(await import("./commands/admin.ts")).adminCommands],
  ota: async () => [...(await import("./commands/ota.ts")).otaCommands],
};

/** The commands under `first` (the first word typed), or all of them for help and unknown words. */
export async function loadCommands(first?: string): Promise<Command[]> {
  const loaders = first !== undefined && Object.hasOwn(COMMAND_MODULES, first) ? [COMMAND_MODULES[first]!] : Object.values(COMMAND_MODULES);
  return (await Promise.all(loaders.map((load) => load()))).flat();
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const first = argv.find((a) => !a.startsWith("-"));
  const code = await runCli(argv, await loadCommands(first), {
    out: (text) => process.stdout.write(text + "\n"),
    err: (text) => process.stderr.write(text + "\n"),
    env: process.env,
  });
  process.exitCode = code;
}
