/**
 * Offline verification of an audit report (the vendor's side): the device's signature, each
 * checkpoint's signature and its agreement with the report, and, given the export, every record's
 * place in the chain, down to the first altered, deleted, inserted or reordered one.
 */
import { Value } from "@sinclair/typebox/value";
import { HearthError } from "../errors.ts";
import { describeSchemaError, validate } from "../validation.ts";
import { canonicalBytes } from "../crypto/canonical.ts";
import { verifyEd25519 } from "../crypto/ed25519.ts";
import { deviceIdOf } from "../identity/device-key.ts";
import { AUDIT_FORMAT_VERSION, SignedAuditReportSchema, type AuditReport } from "./audit.ts";
import { LedgerEntrySchema, type LedgerEntry } from "./chain.ts";
import { checkpointSignatureValid } from "./checkpoints.ts";
import { subtractTotals, totalsDifference, totalsWithin, TotalsBuilder } from "./totals.ts";
import { verifyLedger, type LedgerProblemKind } from "./verify.ts";

export type AuditProblemCode = "wrong_device" | "report_signature" | "checkpoint_inconsistent" | "totals_mismatch" | LedgerProblemKind;

export interface AuditProblem {
  code: AuditProblemCode;
  /** The ledger position, when the problem has one. */
  seq: number | null;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  report: AuditReport;
  /** Records of the export that verified (null without an export). */
  recordsVerified: number | null;
  problems: AuditProblem[];
}

/** Parses a signed report, naming the first field that does not fit (audit_invalid). */
export function parseAuditReport(doc: unknown): { report: AuditReport; signature: string } {
  const version = (doc as { report?: { formatVersion?: unknown } } | null)?.report?.formatVersion;
  if (typeof version === "number" && version !== AUDIT_FORMAT_VERSION) {
    throw new HearthError("audit_invalid", `report.formatVersion: ${version} is not supported (this runtime reads version ${AUDIT_FORMAT_VERSION})`, { field: "report.formatVersion" });
  }
  return validate(SignedAuditReportSchema, doc, "audit_invalid");
}

/** Parses a JSON Lines export, naming the first line that is not a ledger record (audit_invalid). */
export function parseLedgerExport(text: string): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new HearthError("audit_invalid", `export line ${i + 1} is not JSON`, { field: "ledger" });
    }
    if (!Value.Check(LedgerEntrySchema, value)) {
      const first = Value.Errors(LedgerEntrySchema, value).First();
      throw new HearthError("audit_invalid", `export line ${i + 1}: ${first ? describeSchemaError(first, "record") : "not a ledger record"}`, { field: "ledger" });
    }
    entries.push(value);
  }
  return entries;
}

export function verifyAuditReport(doc: unknown, opts: { devicePublicKey: string; entries?: readonly LedgerEntry[] }): AuditVerification {
  const { report, signature } = parseAuditReport(doc);
  const problems: AuditProblem[] = [];
  const problem = (code: AuditProblemCode, message: string, seq: number | null = null) => {
    // The export is held to the same checkpoints: a finding already made is not repeated.
    if (!problems.some((p) => p.code === code && p.seq === seq && p.message === message)) problems.push({ code, seq, message });
  };
  const key = opts.devicePublicKey;

  if (report.devicePublicKey !== key) problem("wrong_device", `the report names device key ${report.devicePublicKey}, not the expected ${key}`);
  if (report.deviceId !== deviceIdOf(report.devicePublicKey)) problem("wrong_device", `the report's device id ${report.deviceId} does not belong to its device key`);
  if (!verifyEd25519(key, canonicalBytes(report), signature)) problem("report_signature", "the report's signature does not verify with the device key: it was altered or signed by another key");
  recordsAgree(report, problem);
  checkpointsAgree(report, key, problem);

  let recordsVerified: number | null = null;
  if (opts.entries) {
    const r = report.records;
    if (r.firstSeq === null || r.lastSeq === null || r.firstPrevHash === null || r.lastHash === null) {
      if (opts.entries.length > 0) problem("inserted", `the report covers no records but the export has ${opts.entries.length}`, opts.entries[0]!.seq);
      recordsVerified = 0;
    } else {
      const checked = verifyLedger(opts.entries, {
        anchor: { seq: r.firstSeq, prevHash: r.firstPrevHash },
        end: { seq: r.lastSeq, hash: r.lastHash },
        checkpoints: report.checkpoints,
        devicePublicKey: key,
      });
      recordsVerified = checked.records;
      if (checked.problem) problem(checked.problem.kind, checked.problem.message, checked.problem.seq);
      else {
        const builder = new TotalsBuilder();
        for (const e of opts.entries) builder.add(e);
        const difference = totalsDifference(builder.totals(), report.totals);
        if (difference) problem("totals_mismatch", `the records do not add up to the report's totals: ${difference}`);
      }
    }
  }
  return { ok: problems.length === 0, report, recordsVerified, problems };
}

/** The report's own numbers agree: as many records as seq numbers in its span, one request each. */
function recordsAgree(report: AuditReport, problem: (code: AuditProblemCode, message: string, seq?: number | null) => void): void {
  const { count, firstSeq, lastSeq } = report.records;
  const span = firstSeq === null || lastSeq === null ? 0 : lastSeq - firstSeq + 1;
  if (count !== span) problem("deleted", `the report counts ${count} records from seq ${firstSeq ?? "none"} to ${lastSeq ?? "none"}: ${span - count} are missing`, firstSeq);
  const requests = report.totals.byKey.reduce((n, k) => n + k.requests, 0);
  if (requests !== count) problem("totals_mismatch", `the report's totals count ${requests} requests for ${count} records`);
}

/** What the report alone can show: its checkpoints are the device's, inside its span and consistent. */
function checkpointsAgree(report: AuditReport, key: string, problem: (code: AuditProblemCode, message: string, seq?: number | null) => void): void {
  const { firstSeq, lastSeq, firstHash, lastHash } = report.records;
  let previous: AuditReport["checkpoints"][number]["payload"] | null = null;
  for (const cp of report.checkpoints) {
    const p = cp.payload;
    const at = p.ledgerSeq;
    if (p.devicePublicKey !== report.devicePublicKey || p.deviceId !== report.deviceId || !checkpointSignatureValid(cp, key)) {
      problem("checkpoint_forged", `the checkpoint at seq ${at} is not signed by the device key`, at);
      continue;
    }
    if (firstSeq === null || lastSeq === null || at < firstSeq || at > lastSeq) {
      problem("checkpoint_inconsistent", `the checkpoint at seq ${at} is outside the report's records (${firstSeq ?? "none"} to ${lastSeq ?? "none"})`, at);
      continue;
    }
    if ((at === lastSeq && p.headHash !== lastHash) || (at === firstSeq && p.headHash !== firstHash)) {
      problem("checkpoint_inconsistent", `the checkpoint at seq ${at} signs a different hash for seq ${at} than the report`, at);
    }
    if (previous) {
      const between = subtractTotals(p.totals, previous.totals);
      const requests = between.byKey.reduce((n, k) => n + k.requests, 0);
      if (at <= previous.ledgerSeq) problem("checkpoint_inconsistent", `the checkpoint at seq ${at} comes after the one at seq ${previous.ledgerSeq}`, at);
      else if (p.count - previous.count !== at - previous.ledgerSeq || requests !== at - previous.ledgerSeq) {
        problem("checkpoint_inconsistent", `the checkpoints at seq ${previous.ledgerSeq} and ${at} count ${p.count - previous.count} records and ${requests} requests between them, not ${at - previous.ledgerSeq}`, at);
      } else if (!totalsWithin(between, report.totals)) {
        problem("checkpoint_inconsistent", `the usage between the checkpoints at seq ${previous.ledgerSeq} and ${at} exceeds the report's totals`, at);
      }
    }
    previous = p;
  }
}
