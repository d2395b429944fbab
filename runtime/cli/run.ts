import { parseArgs } from "node:util";
import { HearthError } from "../errors.ts";
import type { Command, CommandContext, Io } from "./command.ts";
import { reportError } from "./output.ts";

function optionHelp(cmd: Command): string {
  const lines = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    return `  ${flag.padEnd(30)} ${o.description}`;
  });
  lines.push(`  ${"-h, --help".padEnd(30)} Show this help`);
  return lines.join("\n");
}

export function commandHelp(cmd: Command): string {
  return `Usage: hearth ${cmd.path.join(" ")}${cmd.args ? ` ${cmd.args}` : ""} [options]\n\n${cmd.summary}\n\nOptions:\n${optionHelp(cmd)}`;
}

export function overviewHelp(commands: Command[], prefix: string[] = []): string {
  const shown = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const rows = shown.map((c) => `  ${[...c.path, c.args ?? ""].join(" ").trim().padEnd(32)} ${c.summary}`);
  return `Usage: hearth <command> [options]\n\nCommands:\n${rows.join("\n")}\n\nRun \`hearth <command> --help\` for a command's options.`;
}

/** Picks the command whose path matches the most leading words, parses its flags strictly and runs it. */
export async function runCli(argv: string[], commands: Command[], io: Io): Promise<number> {
  const words = argv.filter((a) => !a.startsWith("-"));
  const cmd = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => words[i] === w));
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  if (!cmd) {
    const prefix = words.length > 0 && commands.some((c) => c.path[0] === words[0]) ? [words[0]!] : [];
    if (wantsHelp || argv.length === 0 || prefix.length > 0) {
      (argv.length === 0 || wantsHelp ? io.out : io.err)(overviewHelp(commands, prefix));
      return argv.length === 0 || wantsHelp ? 0 : 2;
    }
    io.err(`hearth: unknown command ${JSON.stringify(words.join(" ") || argv[0])}\n\n${overviewHelp(commands)}`);
    return 2;
  }
  if (wantsHelp) {
    io.out(commandHelp(cmd));
    return 0;
  }
  // Remove the command words (first occurrences, in order) and keep everything else for parseArgs.
  const rest = [...argv];
  for (const w of cmd.path) rest.splice(rest.indexOf(w), 1);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    io.err(`hearth: ${(err as Error).message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  try {
    return await cmd.run({ ...parsed, io });
  } catch (err) {
    return reportError(io, err, parsed.values.json === true);
  }
}

/** Reads a flag as an integer, naming the flag when it is not one. */
/** A string option's value, or undefined when it was not given. */
export function stringFlag(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

/** A string option that must be given; usage error naming it otherwise. */
export function requiredFlag(ctx: CommandContext, name: string): string {
  const value = stringFlag(ctx, name);
  if (value === undefined) throw new HearthError("invalid_request", `--${name} is required`, { field: name });
  return value;
}

export function intFlag(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n)) {
    throw new HearthError("invalid_request", `--${name}: ${JSON.stringify(raw)} is not a whole number`, { field: name });
  }
  return n;
}
