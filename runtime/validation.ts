import type { TSchema, Static } from "@sinclair/typebox";
import { Value, type ValueError } from "@sinclair/typebox/value";
import { HearthError, type ErrorCode } from "./errors.ts";

/** Dotted field name of a TypeBox error path: "/messages/0/role" → "messages[0].role". */
export function fieldName(path: string): string {
  return path
    .replace(/^\//, "")
    .split("/")
    .filter((s) => s !== "")
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join("");
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The rule a value broke, in words, with allowed values for literal unions. */
function rule(e: ValueError): string {
  const schema = e.schema as TSchema & { anyOf?: TSchema[] };
  if (e.value === undefined) return "is required";
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((s) => "const" in s)) {
    return `must be one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(", ")}`;
  }
  if (e.message === "Unexpected property") return "is not a known field";
  return e.message
    .replace(/^Expected (integer|number|string|boolean|array|object)$/, (_, t: string) => `must be ${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`)
    .replace(/^Expected (?:integer|number) to be /, "must be ")
    .replace(/^Expected string length /, "must have a length ")
    .replace(/^Expected array length to be /, "must have a number of items ")
    .replace(/^Expected /, "must be ")
    .replace("less or equal to", "at most")
    .replace("greater or equal to", "at least")
    .replace(/^Unexpected/, "unexpected");
}

export function describeSchemaError(e: ValueError, root?: string): string {
  const name = fieldName(e.path) || root || "body";
  return `${name}: ${show(e.value)} ${rule(e)}`;
}

/**
 * Validates without coercion and returns the first problem per field. The first field named is
 * reported as `field`, because OpenAI-style errors carry one `param`.
 */
export function validate<T extends TSchema>(schema: T, value: unknown, code: ErrorCode = "invalid_request"): Static<T> {
  if (Value.Check(schema, value)) return value as Static<T>;
  const seen = new Set<string>();
  const problems: { field: string; text: string }[] = [];
  for (const e of Value.Errors(schema, value)) {
    const field = fieldName(e.path);
    // A union reports each failed branch; the deepest, first message is the one that helps.
    if (seen.has(field) || [...seen].some((f) => f !== "" && field.startsWith(f))) continue;
    seen.add(field);
    problems.push({ field, text: describeSchemaError(e) });
    if (problems.length >= 5) break;
  }
  const first = problems[0] ?? { field: "", text: "body is invalid" };
  throw new HearthError(code, problems.map((p) => p.text).join("; "), { field: first.field || undefined });
}
