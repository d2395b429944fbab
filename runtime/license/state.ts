/**
 * The license state of a running box: the tier and entitlements in force, why, and what to warn
 * about. Built at every start from the installed file, re-verified against trusted time. It only
 * decides paid features; inference never depends on it.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import type { Fingerprint } from "../identity/fingerprint-format.ts";
import type { Db } from "../store/db.ts";
import { communityGate, ENTITLEMENTS, entitlementGate, type EntitlementGate } from "./entitlements.ts";
import type { LicenseReason } from "./reasons.ts";
import type { LicensePayload, LicenseTier } from "./schema.ts";
import { checkInstalledLicense, installLicense } from "./store.ts";
import { graceEndsAt } from "./time-state.ts";
import { readTrustedTime, type ClockRollback, type TrustedTimeReading } from "./trusted-time.ts";
import { trustedVendorKeys } from "./vendor-keys.ts";
import type { LicenseVerdict } from "./verify.ts";

export interface LicenseSummary {
  licenseId: string;
  customer: string;
  tier: LicenseTier;
  /** As listed, including names this runtime does not know (those grant nothing here). */
  entitlements: string[];
  binding: { fingerprints: number } | { seats: number };
  issuedAt: string;
  notBefore: string;
  expiresAt: string;
  graceDays: number;
  graceEndsAt: string;
  updateChannel: string;
  keyId: string;
}

export interface LicenseClockStatus {
  /** The effective now license dates were judged against. */
  trustedNow: string;
  wallNow: string;
  /** The wall clock is behind trusted time beyond the tolerance right now. */
  rolledBack: boolean;
  incidents: number;
  lastRollback: ClockRollback | null;
}

export interface LicenseState {
  /** The tier in force: the license's while it is valid, expiring or in grace; otherwise community. */
  tier: LicenseTier;
  reason: LicenseReason;
  message: string;
  /** The installed license once its signature checked out (also when expired or bound elsewhere). */
  license: LicenseSummary | null;
  warnings: string[];
  clock: LicenseClockStatus;
  gate: EntitlementGate;
}

export function licenseSummary(p: LicensePayload): LicenseSummary {
  return {
    licenseId: p.licenseId,
    customer: p.customer,
    tier: p.tier,
    entitlements: [...p.entitlements],
    binding: "seats" in p.binding ? { seats: p.binding.seats } : { fingerprints: p.binding.fingerprints.length },
    issuedAt: p.issuedAt,
    notBefore: p.notBefore,
    expiresAt: p.expiresAt,
    graceDays: p.graceDays,
    graceEndsAt: new Date(graceEndsAt(p)).toISOString(),
    updateChannel: p.updateChannel,
    keyId: p.keyId,
  };
}

function gateFor(verdict: LicenseVerdict): EntitlementGate {
  const p = verdict.payload;
  if (verdict.inForce && p) return entitlementGate(p.tier, p.entitlements, `license ${p.licenseId} (${p.tier}) does not include it`);
  if (verdict.reason === "absent") return communityGate();
  const why = verdict.reason === "expired" ? verdict.message : `the installed license was refused (${verdict.reason}: ${verdict.message})`;
  return entitlementGate("community", [], `${why}; the box runs the Community tier`);
}

/** Combines a verdict with the trusted-time reading it was judged at. */
export function licenseState(verdict: LicenseVerdict, time: TrustedTimeReading): LicenseState {
  const warnings = [...verdict.warnings];
  if (time.rolledBack) {
    const behind = Math.round((time.now - time.wall) / 1000);
    warnings.push(
      `the system clock (${new Date(time.wall).toISOString()}) is ${behind} s behind trusted time (${new Date(time.now).toISOString()}); license dates are judged against trusted time`,
    );
  }
  const gate = gateFor(verdict);
  return {
    tier: gate.tier,
    reason: verdict.reason,
    message: verdict.message,
    license: verdict.payload ? licenseSummary(verdict.payload) : null,
    warnings,
    clock: {
      trustedNow: new Date(time.now).toISOString(),
      wallNow: new Date(time.wall).toISOString(),
      rolledBack: time.rolledBack,
      incidents: time.incidents,
      lastRollback: time.lastRollback,
    },
    gate,
  };
}

export interface LoadLicenseOptions {
  dataDir: string;
  /** The runtime database (migrated): trusted time lives there. */
  db: Db;
  config: Config["license"];
  /** This device's current fingerprint (identity/fingerprint.ts). */
  device: Fingerprint;
  clock: Clock;
}

/** Reads trusted time, then loads and re-verifies the installed license. Never throws for a bad file. */
export function loadLicenseState(opts: LoadLicenseOptions): LicenseState {
  const time = readTrustedTime(opts.db, opts.clock, opts.config.clockToleranceSeconds);
  const verdict = checkInstalledLicense(opts.dataDir, { vendorKeys: trustedVendorKeys(opts.config.vendorKeys), device: opts.device, now: time.now });
  return licenseState(verdict, time);
}

/**
 * Installs a license for this device (the CLI and the admin API) and returns the state it puts in
 * force. A refusal throws license_invalid naming the reason and leaves the installed file as it was.
 */
export function installLicenseState(opts: LoadLicenseOptions, bytes: Uint8Array): LicenseState {
  const time = readTrustedTime(opts.db, opts.clock, opts.config.clockToleranceSeconds);
  const verdict = installLicense(opts.dataDir, bytes, { vendorKeys: trustedVendorKeys(opts.config.vendorKeys), device: opts.device, now: time.now });
  return licenseState(verdict, time);
}

/** The base-model update channel: the license's with base_model_updates on SMB, else "community". */
export function updateChannelFor(state: LicenseState): string {
  return state.tier === "smb" && state.license && state.gate.has("base_model_updates") ? state.license.updateChannel : "community";
}

/** The state as data (status --json, the admin API): the gate becomes the entitlements it grants. */
export function licenseStateJson(state: LicenseState) {
  const { tier, reason, message, license, warnings, clock, gate } = state;
  return { tier, reason, message, entitlements: ENTITLEMENTS.filter((e) => gate.has(e)), updateChannel: updateChannelFor(state), license, warnings, clock };
}
