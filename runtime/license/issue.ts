/**
 * Building a license payload from the vendor's `hearth license issue` flags. Mistakes are refused
 * here, naming the flag, rather than producing a license no box would accept.
 */
import { randomBytes } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { HearthError } from "../errors.ts";
import { formatFingerprint, parseFingerprint, type Fingerprint } from "../identity/fingerprint-format.ts";
import { validate } from "../validation.ts";
import { ENTITLEMENTS } from "./entitlements.ts";
import { LicensePayload, type LicenseBinding } from "./schema.ts";
import { DAY_MS } from "./time-state.ts";

export interface IssueRequest {
  tier: string;
  /** Comma-separated, as given to --entitlements. */
  entitlements?: string;
  fingerprint?: string;
  seats?: number;
  expires: string;
  notBefore?: string;
  customer?: string;
  licenseId?: string;
  graceDays?: number;
  channel?: string;
  keyId: string;
}

export const DEFAULT_GRACE_DAYS = 14;
export const DEFAULT_UPDATE_CHANNEL = "stable";

function bad(field: string, why: string): never {
  throw new HearthError("invalid_request", `--${field}: ${why}`, { field });
}

/** A date flag: YYYY-MM-DD (the start of that day, UTC) or an ISO 8601 time with a zone. */
export function parseTimeFlag(text: string, field: string): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
  if ((!dateOnly && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) || Number.isNaN(ms)) {
    bad(field, `${JSON.stringify(text)} is not a date (YYYY-MM-DD, or an ISO 8601 time with a zone such as 2027-01-31T12:00:00Z)`);
  }
  return ms;
}

/** A --fingerprint flag (hfp1:...); the error names the flag. */
export function parseFingerprintFlag(text: string): Fingerprint {
  try {
    return parseFingerprint(text, "--fingerprint");
  } catch (err) {
    throw new HearthError("invalid_request", (err as Error).message, { field: "fingerprint" });
  }
}

function entitlementList(text: string | undefined): string[] {
  const names = [...new Set((text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""))];
  const unknown = names.filter((n) => !(ENTITLEMENTS as readonly string[]).includes(n));
  if (unknown.length > 0) bad("entitlements", `unknown ${unknown.map((n) => JSON.stringify(n)).join(", ")} (known: ${ENTITLEMENTS.join(", ")})`);
  return names;
}

function bindingOf(req: IssueRequest): LicenseBinding {
  if ((req.fingerprint === undefined) === (req.seats === undefined)) bad("fingerprint", "give either --fingerprint FP (device-bound) or --seats N (fleet), not both or neither");
  if (req.seats !== undefined) {
    if (!Number.isInteger(req.seats) || req.seats < 1) bad("seats", `${req.seats} must be a whole number of at least 1`);
    return { seats: req.seats };
  }
  return { fingerprints: [formatFingerprint(parseFingerprintFlag(req.fingerprint!))] };
}

/** The payload to sign; `now` is the issue time. */
export function buildLicensePayload(req: IssueRequest, now: number): LicensePayload {
  const tier = req.tier;
  if (tier !== "community" && tier !== "smb") bad("tier", `${JSON.stringify(tier)} must be "smb" or "community"`);
  const graceDays = req.graceDays ?? DEFAULT_GRACE_DAYS;
  if (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > 365) bad("grace-days", `${graceDays} must be a whole number from 0 to 365`);
  const notBefore = req.notBefore === undefined ? now : parseTimeFlag(req.notBefore, "not-before");
  const expires = parseTimeFlag(req.expires, "expires");
  if (expires <= notBefore) bad("expires", `${req.expires} must be after the start of validity (${new Date(notBefore).toISOString()})`);
  if (expires + graceDays * DAY_MS <= now) bad("expires", `${req.expires} is in the past: the license would be expired when issued`);
  const payload: LicensePayload = {
    licenseId: req.licenseId ?? `lic-${randomBytes(8).toString("hex")}`,
    customer: req.customer ?? "",
    tier,
    entitlements: entitlementList(req.entitlements),
    binding: bindingOf(req),
    issuedAt: new Date(now).toISOString(),
    notBefore: new Date(notBefore).toISOString(),
    expiresAt: new Date(expires).toISOString(),
    graceDays,
    updateChannel: req.channel ?? DEFAULT_UPDATE_CHANNEL,
    keyId: req.keyId,
  };
  if (!Value.Check(LicensePayload, payload)) {
    // The remaining rules (id, customer and channel shapes) are the schema's; name the flag.
    const flags: Record<string, string> = { licenseId: "license-id", customer: "customer", updateChannel: "channel", keyId: "key-id" };
    try {
      validate(LicensePayload, payload);
    } catch (err) {
      const field = (err as HearthError).field ?? "";
      throw new HearthError("invalid_request", `--${flags[field] ?? field}: ${(err as Error).message.replace(/^[^:]*: /, "")}`, { field: flags[field] ?? field });
    }
  }
  return payload;
}
