/**
 * Random secrets and their verifiers. Tokens and session ids are 32 random bytes, so one SHA-256
 * is a sound verifier; the password and the short pairing code get argon2id (Bun.password).
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

export const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/** A prefixed 32-byte base64url secret. */
export const randomSecret = (prefix = ""): string => prefix + randomBytes(32).toString("base64url");

export const randomId = (prefix: string): string => `${prefix}_${randomBytes(6).toString("hex")}`;

/** Constant-time equality of two strings (false for different lengths, without an early exit on content). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CSRF token of a session: derived from its secret, so nothing more is stored. */
export const csrfTokenOf = (sessionSecret: string): string => createHmac("sha256", sessionSecret).update("hearth admin csrf v1").digest("base64url");

/** OWASP's argon2id minimum (19 MiB, 2 passes): affordable on a Pi, a few tens of ms per check. */
const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

export const hashPassword = (password: string): Promise<string> => Bun.password.hash(password, ARGON2);

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

/** No 0/O, 1/I/L: a code read off a console or screen is typed right. 31^8 ≈ 8.5e11 codes. */
export const PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const PAIRING_LENGTH = 8;

/** A pairing code as shown: two groups of four, e.g. 7KQM-4XTP. */
export function newPairingCode(): string {
  let code = "";
  for (let i = 0; i < PAIRING_LENGTH; i++) code += PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What is hashed and compared: upper case without spaces or dashes, so "7kqm 4xtp" matches. */
export const normalizePairingCode = (code: string): string => code.toUpperCase().replace(/[\s-]/g, "");
