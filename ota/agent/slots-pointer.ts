/** Reads and durably replaces the slot store's pointer file. */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { hasErrno } from "../../runtime/errors.ts";
import { writeFileDurably } from "../../runtime/license/durable-write.ts";
import { OtaAgentError } from "./errors.ts";
import { EMPTY_POINTER, PointerSchema, type Pointer } from "./slots-schema.ts";

export const POINTER_FILE = "current";

/** The pointer in `root`, or the empty one before the first install. */
export function readPointer(root: string): Pointer {
  const path = join(root, POINTER_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (hasErrno(err, "ENOENT")) return structuredClone(EMPTY_POINTER);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Value.Check(PointerSchema, value)) {
    const first = value === undefined ? "not JSON" : Value.Errors(PointerSchema, value).First()?.message;
    throw new OtaAgentError("internal", "pointer_corrupt", `${path} is not a valid slot pointer (${first})`, { path });
  }
  return value;
}

export function writePointer(root: string, pointer: Pointer): void {
  writeFileDurably(join(root, POINTER_FILE), JSON.stringify(pointer, null, 2) + "\n");
}

/** Temp files of a pointer write that a crash interrupted (the rename never happened). */
export function removeStaleTemps(root: string): void {
  for (const f of readdirSync(root)) if (f.startsWith(`${POINTER_FILE}.`) && f.endsWith(".tmp")) rmSync(join(root, f), { force: true });
}
