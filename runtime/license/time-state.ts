/**
 * Where a verified license stands in time, judged against the effective (trusted) now: valid, a
 * warning from EXPIRY_WARNING_DAYS before expiry, then graceDays of grace, then expired.
 */
import type { LicensePayload } from "./schema.ts";

export const DAY_MS = 86_400_000;
export const EXPIRY_WARNING_DAYS = 30;

export type TimeReason = "not_yet_valid" | "valid" | "expiring" | "grace" | "expired";

export interface TimeState {
  reason: TimeReason;
  message: string;
  warnings: string[];
}

/** When SMB features end: expiresAt plus the grace days. */
export function graceEndsAt(payload: LicensePayload): number {
  return Date.parse(payload.expiresAt) + payload.graceDays * DAY_MS;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;

export function licenseTimeState(payload: LicensePayload, now: number): TimeState {
  const id = payload.licenseId;
  const notBefore = Date.parse(payload.notBefore);
  const expires = Date.parse(payload.expiresAt);
  const graceEnd = graceEndsAt(payload);
  if (now < notBefore) {
    return { reason: "not_yet_valid", message: `license ${id} is not valid before ${payload.notBefore}`, warnings: [] };
  }
  if (now < expires - EXPIRY_WARNING_DAYS * DAY_MS) {
    return { reason: "valid", message: `license ${id} is valid until ${payload.expiresAt}`, warnings: [] };
  }
  if (now < expires) {
    const left = Math.ceil((expires - now) / DAY_MS);
    const warning = `license ${id} expires on ${day(expires)} (in ${days(left)}); renew it to keep its features`;
    return { reason: "expiring", message: warning, warnings: [warning] };
  }
  if (now < graceEnd) {
    const left = Math.ceil((graceEnd - now) / DAY_MS);
    const warning = `license ${id} expired on ${day(expires)}; its features continue in a grace period until ${day(graceEnd)} (${days(left)} left)`;
    return { reason: "grace", message: warning, warnings: [warning] };
  }
  const ended = payload.graceDays > 0 ? ` and its grace period ended on ${day(graceEnd)}` : "";
  return { reason: "expired", message: `license ${id} expired on ${day(expires)}${ended}`, warnings: [] };
}
