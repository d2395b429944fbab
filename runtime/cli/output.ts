import { isHearthError } from "../errors.ts";
import type { Io } from "./command.ts";

/** The one place that turns an error into CLI output and an exit code. */
export function reportError(io: Io, err: unknown, json: boolean): number {
  if (isHearthError(err)) {
    if (json) io.err(JSON.stringify({ error: { code: err.code, message: err.message, field: err.field ?? null } }));
    else io.err(`hearth: ${err.message}${err.message.includes("\n") ? "" : ` [${err.code}]`}`);
    return err.code === "invalid_request" || err.code === "config_invalid" ? 2 : 1;
  }
  io.err(`hearth: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  return 1;
}

/** Fixed-width table for human output. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
