import { loadConfig, DEFAULT_CONFIG_FILE } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { CommandContext } from "./command.ts";

/**
 * Loads config for a command: its `--config`, settings changed by fleet commands (when given),
 * the environment, then the given flag overrides.
 */
export function commandConfig(ctx: CommandContext, flags: Record<string, unknown> = {}, fleetOverrides?: Record<string, unknown>): Config {
  return loadConfig({
    file: ctx.values.config as string | undefined,
    defaultFile: DEFAULT_CONFIG_FILE,
    env: ctx.io.env,
    flags: { dataDir: ctx.values["data-dir"], ...flags },
    fleetOverrides,
  });
}
