/** The bytes a command's signature covers, and building and signing commands (the admin side). */
import { randomBytes, randomUUID } from "node:crypto";
import { canonicalBytes } from "../../crypto/canonical.ts";
import type { Signer } from "../../crypto/ed25519.ts";
import type { Command } from "../../telemetry/messages.ts";

export type UnsignedCommand = Omit<Command, "signature">;

/** UTF-8 of canonicalJson(command without `signature`): spacing and key order are not signed. */
export function signedBytes(command: UnsignedCommand | Command): Uint8Array {
  const { signature: _, ...rest } = command as Command;
  return canonicalBytes(rest);
}

export function signCommand(command: UnsignedCommand, signer: Signer): Command {
  return { ...command, signature: signer.sign(signedBytes(command)) };
}

export interface NewCommand {
  kind: string;
  target: Command["target"];
  fleet: string;
  args: Record<string, unknown>;
  keyId: string;
  /** Lifetime from now; the box refuses lifetimes over MAX_COMMAND_LIFETIME_MS. */
  ttlMs: number;
}

/** A fresh command: random id and nonce (a nonce is never reused), issued now. */
export function newCommand(spec: NewCommand, now: number): UnsignedCommand {
  return {
    v: 1,
    id: randomUUID(),
    kind: spec.kind,
    target: spec.target,
    fleet: spec.fleet,
    args: spec.args,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + spec.ttlMs).toISOString(),
    nonce: randomBytes(18).toString("base64url"),
    keyId: spec.keyId,
  };
}
