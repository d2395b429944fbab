export type OptionSpec = {
  type: "string" | "boolean";
  description: string;
  short?: string;
  /** Shown in help as the value's name, e.g. FILE. */
  value?: string;
};

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  io: Io;
}

export interface Command {
  /** Words after `hearth`, e.g. ["keys", "create"]. */
  path: string[];
  summary: string;
  /** Positional arguments as shown in help, e.g. "FILE". */
  args?: string;
  options: Record<string, OptionSpec>;
  /** Resolves to the exit code; long-running commands resolve when they stop. */
  run(ctx: CommandContext): Promise<number>;
}

export const JSON_OPTION: Record<string, OptionSpec> = { json: { type: "boolean", description: "Print the result as JSON" } };
export const DATA_DIR_OPTION: Record<string, OptionSpec> = {
  "data-dir": { type: "string", value: "DIR", description: "Data directory (default from config: ./data)" },
  config: { type: "string", value: "FILE", description: "Config file (default /etc/hearth/config.json when present)" },
};
