/**
 * Verification of a fleet command on the box: bytes in, the command or one stable rejection code
 * out. Pure (the time, this box's identity and the nonce lookup are passed in) and total: input of
 * any kind gives a verdict, never a throw.
 *
 * Order: size, JSON, version, schema, fleet, key, signature; only a signed command's addressing,
 * times, nonce, kind and arguments are looked at, so a forger learns nothing past "bad signature".
 */
import { verifyEd25519 } from "../../crypto/ed25519.ts";
import { isHearthError } from "../../errors.ts";
import { CommandSchema, type Command } from "../../telemetry/messages.ts";
import { validate } from "../../validation.ts";
import type { RejectionCode } from "./codes.ts";
import type { FleetKey } from "./keyfile.ts";
import { checkArgs, isCommandKind, type CheckedArgs, type CommandKind } from "./kinds.ts";
import { CLOCK_SKEW_MS, MAX_COMMAND_BYTES, MAX_COMMAND_LIFETIME_MS } from "./limits.ts";
import { signedBytes } from "./signing.ts";

export interface VerifyCommandContext {
  deviceId: string;
  fleet: string;
  groups: readonly string[];
  fleetKeys: readonly FleetKey[];
  /** The box's clock, in ms. */
  now: number;
  /** Whether a command with this nonce was accepted before. */
  nonceSeen(nonce: string): boolean;
  /** The kinds this box runs (those whose hooks it was given). */
  kinds: readonly CommandKind[];
}

export type CommandVerdict =
  | { ok: true; command: Command; args: CheckedArgs }
  | { ok: false; code: RejectionCode; reason: string; field?: string; commandId: string | null };

export const COMMAND_VERSION = 1;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const COMMAND_ID = /^[A-Za-z0-9_-]{1,64}$/;
const iso = (ms: number) => new Date(ms).toISOString();

export function verifyCommand(bytes: Uint8Array, ctx: VerifyCommandContext): CommandVerdict {
  let commandId: string | null = null;
  const refuse = (code: RejectionCode, reason: string, field?: string): CommandVerdict => ({ ok: false, code, reason, commandId, ...(field ? { field } : {}) });

  if (!(bytes instanceof Uint8Array)) return refuse("malformed", "the command is not a byte payload");
  if (bytes.byteLength > MAX_COMMAND_BYTES) return refuse("malformed", `the command is ${bytes.byteLength} bytes; at most ${MAX_COMMAND_BYTES} are read`, "payload");
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    return refuse("malformed", `the command is not JSON (${(err as Error).message})`, "payload");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return refuse("malformed", "the command is not a JSON object", "payload");
  const fields = doc as Record<string, unknown>;
  // The id is echoed in the ack even when the rest is refused, so the sender can match it.
  if (typeof fields.id === "string" && COMMAND_ID.test(fields.id)) commandId = fields.id;

  if (fields.v === undefined) return refuse("malformed", "the command is malformed: v: missing is required", "v");
  if (fields.v !== COMMAND_VERSION) return refuse("unsupported_version", `command version ${JSON.stringify(fields.v)} is not supported (this box speaks version ${COMMAND_VERSION})`, "v");

  let command: Command;
  try {
    // A missing signature is "unsigned", judged with the signature below, not a schema problem.
    command = validate(CommandSchema, { ...fields, signature: fields.signature ?? "" });
  } catch (err) {
    if (!isHearthError(err)) throw err;
    // TypeBox only says "union value" for the target; say what it must be.
    if (err.field === "target") return refuse("malformed", 'the command is malformed: target: must be either {"device": ID} or {"group": NAME}', "target");
    return refuse("malformed", `the command is malformed: ${err.message}`, err.field);
  }
  for (const field of ["issuedAt", "expiresAt"] as const) {
    if (!ISO_TIME.test(command[field]) || Number.isNaN(Date.parse(command[field]))) {
      return refuse("malformed", `the command is malformed: ${field}: ${JSON.stringify(command[field])} is not an ISO 8601 time with a time zone`, field);
    }
  }

  if (command.fleet !== ctx.fleet) return refuse("wrong_fleet", `the command is for fleet "${command.fleet}"; this box is in fleet "${ctx.fleet}"`, "fleet");
  const key = ctx.fleetKeys.find((k) => k.keyId === command.keyId);
  if (!key) return refuse("unknown_key", `the command names fleet key "${command.keyId}", which this box does not trust (telemetry.fleetKeys)`, "keyId");
  if (command.signature === "") return refuse("unsigned", "the command carries no signature; commands must be signed with a fleet key", "signature");
  let signed: Uint8Array;
  try {
    signed = signedBytes(command);
  } catch (err) {
    return refuse("malformed", `the command cannot be encoded (${(err as Error).message})`, "args");
  }
  if (!verifyEd25519(key.publicKey, signed, command.signature)) {
    return refuse("bad_signature", `the signature does not match the command (fleet key "${command.keyId}"): it was altered or not signed with that key`, "signature");
  }

  // From here the command is the fleet admin's.
  if ("device" in command.target && command.target.device !== ctx.deviceId) {
    return refuse("misaddressed", `the command is addressed to device ${command.target.device}; this is ${ctx.deviceId}`, "target.device");
  }
  if ("group" in command.target && !ctx.groups.includes(command.target.group)) {
    const groups = ctx.groups.length > 0 ? `this box's groups are ${ctx.groups.join(", ")}` : "this box is in no group";
    return refuse("misaddressed", `the command is addressed to group ${command.target.group}; ${groups}`, "target.group");
  }

  const issuedAt = Date.parse(command.issuedAt);
  const expiresAt = Date.parse(command.expiresAt);
  if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_COMMAND_LIFETIME_MS) {
    return refuse("invalid_lifetime", `the command is valid from ${command.issuedAt} to ${command.expiresAt}; it must expire after it is issued and within ${MAX_COMMAND_LIFETIME_MS / 3_600_000} h`, "expiresAt");
  }
  if (issuedAt > ctx.now + CLOCK_SKEW_MS) {
    return refuse("not_yet_valid", `the command was issued at ${command.issuedAt}, ahead of this box's clock (${iso(ctx.now)}) by more than ${CLOCK_SKEW_MS / 1000} s`, "issuedAt");
  }
  if (expiresAt <= ctx.now) return refuse("expired", `the command expired at ${command.expiresAt} (this box's clock: ${iso(ctx.now)})`, "expiresAt");
  if (ctx.nonceSeen(command.nonce)) return refuse("replayed", `nonce ${command.nonce} was already used by an accepted command; a command runs at most once`, "nonce");

  if (!isCommandKind(command.kind) || !ctx.kinds.includes(command.kind)) {
    return refuse("unknown_kind", `this box does not run commands of kind ${JSON.stringify(command.kind)} (it runs ${ctx.kinds.join(", ")})`, "kind");
  }
  const args = checkArgs(command.kind, command.args);
  if (!args.ok) return refuse(args.code, args.reason, args.field);
  return { ok: true, command, args: args.args };
}
