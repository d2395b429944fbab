/**
 * The usage ledger's hash chain: each record's hash is SHA-256 over its predecessor's hash and its
 * own fields, so changing, removing, adding or moving a record breaks every link after it.
 *
 *   hash = SHA-256( prev_hash (32 bytes) ‖ UTF-8 of JSON.stringify([seq, request_id, key_id, model,
 *                   endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at]) )
 *
 * An array of strings, integers and null: JSON.stringify is already canonical for it. The first
 * record's prev_hash is 32 zero bytes. This file is the definition; verification reads it too.
 */
import { createHash } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";

export const HASH_BYTES = 32;
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);
export const ZERO_HASH_HEX = "0".repeat(HASH_BYTES * 2);

export const HashHex = Type.String({ pattern: "^[0-9a-f]{64}$", description: "SHA-256, lowercase hex" });

export const UsageOutcomeSchema = Type.Union([Type.Literal("completed"), Type.Literal("aborted"), Type.Literal("failed")]);

/** One ledger record with its place in the chain, as exported (JSON Lines) and verified offline. */
export const LedgerEntrySchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    requestId: Type.String(),
    keyId: Type.Union([Type.String(), Type.Null()]),
    model: Type.String(),
    endpoint: Type.String(),
    promptTokens: Type.Integer({ minimum: 0 }),
    completionTokens: Type.Integer({ minimum: 0 }),
    durationMs: Type.Integer({ minimum: 0 }),
    outcome: UsageOutcomeSchema,
    createdAt: Type.Integer(),
    prevHash: HashHex,
    hash: HashHex,
  },
  { additionalProperties: false },
);
export type LedgerEntry = Static<typeof LedgerEntrySchema>;

/** The hashed fields of a record, in the table's column order. */
export type ChainFields = Omit<LedgerEntry, "prevHash" | "hash">;

/** The JSON the hash covers (the same text SQLite's json_array() writes for these columns). */
export function chainJson(r: ChainFields): string {
  return JSON.stringify([r.seq, r.requestId, r.keyId, r.model, r.endpoint, r.promptTokens, r.completionTokens, r.durationMs, r.outcome, r.createdAt]);
}

export function recordHash(prevHash: Uint8Array, r: ChainFields): Buffer {
  return createHash("sha256").update(prevHash).update(chainJson(r)).digest();
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
export const fromHex = (hex: string): Buffer => Buffer.from(hex, "hex");

/** `recordHash` over hex: what offline verification of an export computes. */
export function recordHashHex(prevHashHex: string, r: ChainFields): string {
  return recordHash(fromHex(prevHashHex), r).toString("hex");
}
