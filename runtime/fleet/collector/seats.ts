/**
 * Seats per license for the audit. Telemetry carries license ids, not license documents, so the
 * seat counts come from the vendor: `--seats LIC=N,LIC2=M` and/or a JSON file `{"LIC": N}`. A
 * license not listed is taken as fingerprint-bound: one device.
 */
import { readFileSync } from "node:fs";
import { Type } from "@sinclair/typebox";
import { HearthError, hasErrno } from "../../errors.ts";
import { validate } from "../../validation.ts";

export const DEFAULT_SEATS = 1;

export const SeatsFileSchema = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.Integer({ minimum: 1 }), {
  description: "License id → devices it allows",
});

export function parseSeatsFlag(text: string): Map<string, number> {
  const seats = new Map<string, number>();
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const m = /^(.+)=(\d+)$/.exec(part);
    const n = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(n) || n < 1) {
      throw new HearthError("invalid_request", `--seats: ${JSON.stringify(part)} is not LICENSE=N with N a whole number of at least 1`, { field: "seats" });
    }
    seats.set(m[1]!.trim(), n);
  }
  return seats;
}

export function readSeatsFile(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new HearthError("invalid_request", `--seats-file ${path} ${hasErrno(err, "ENOENT") ? "does not exist" : `cannot be read (${(err as Error).message})`}`, { field: "seats-file" });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new HearthError("invalid_request", `--seats-file ${path} is not JSON`, { field: "seats-file" });
  }
  try {
    return new Map(Object.entries(validate(SeatsFileSchema, doc)));
  } catch (err) {
    throw new HearthError("invalid_request", `--seats-file ${path}: ${(err as Error).message}`, { field: "seats-file" });
  }
}
