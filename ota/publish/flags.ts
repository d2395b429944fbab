/** Parsing the publisher's command-line values, each error naming its flag. */
import type { CommandContext } from "../../runtime/cli/command.ts";
import { intFlag } from "../../runtime/cli/run.ts";
import { HearthError } from "../../runtime/errors.ts";
import { ENTITLEMENTS } from "../../runtime/license/entitlements.ts";
import type { BaseRequirement, ReleaseKind } from "../schema/manifest.ts";

const bad = (field: string, text: string): never => {
  throw new HearthError("invalid_request", text, { field });
};

/** Every value of a repeatable string flag (parseArgs collects them in an array). */
export function listFlag(ctx: CommandContext, name: string): string[] {
  const value = ctx.values[name] as unknown;
  return Array.isArray(value) ? (value as string[]) : typeof value === "string" ? [value] : [];
}

export function daysFlag(ctx: CommandContext, name: string, fallback: number): number {
  const days = intFlag(ctx.values, name) ?? fallback;
  if (days < 1 || days > 3650) bad(name, `--${name}: ${days} days must be between 1 and 3650`);
  return days;
}

export function thresholdFlag(ctx: CommandContext, name: string, fallback?: number): number {
  const n = intFlag(ctx.values, name) ?? fallback;
  if (n === undefined) return bad(name, `--${name} is required`);
  if (n < 1) bad(name, `--${name}: ${n} must be at least 1`);
  return n;
}

export function percentFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || n > 100 || Math.round(n * 100) !== n * 100) {
    bad("percent", `--percent ${JSON.stringify(text)} must be a number from 0 to 100 with at most two decimals`);
  }
  return n;
}

export function kindFlag(text: string | undefined): ReleaseKind {
  if (text === undefined || text === "base-model" || text === "lora") return text ?? "base-model";
  return bad("kind", `--kind ${JSON.stringify(text)} must be base-model or lora`);
}

/** --base NAME@VERSIONS, e.g. llama-3b@^1.2.0. */
export function baseFlag(text: string | undefined, sha256: string | undefined): BaseRequirement | undefined {
  if (text === undefined) return sha256 === undefined ? undefined : bad("base-sha256", "--base-sha256 needs --base");
  const at = text.indexOf("@");
  if (at <= 0 || at === text.length - 1) bad("base", `--base ${JSON.stringify(text)} must be NAME@VERSIONS, e.g. llama-3b@^1.2.0`);
  return { name: text.slice(0, at), versions: text.slice(at + 1), ...(sha256 !== undefined ? { sha256 } : {}) };
}

/** The entitlement a release requires: --entitlement (or "none"), else lora_adapters for a LoRA, else none. */
export function entitlementFlag(text: string | undefined, kind: ReleaseKind): string | undefined {
  if (text === "none") return undefined;
  if (text === undefined) return kind === "lora" ? "lora_adapters" : undefined;
  if (!(ENTITLEMENTS as readonly string[]).includes(text)) bad("entitlement", `--entitlement ${JSON.stringify(text)} must be one of ${ENTITLEMENTS.join(", ")} or none`);
  return text;
}
