import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Command, CommandContext } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { requiredFlag, stringFlag } from "../run.ts";
import { HearthError, hasErrno } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { DB_FILE, openDatabase, type Db } from "../../store/db.ts";
import { DEVICE_KEY_FILE, loadOrCreateDeviceIdentity } from "../../identity/device-key.ts";
import { publicKeyObject } from "../../crypto/ed25519.ts";
import { installedLicenseId } from "../../license/store.ts";
import { parseTimeFlag } from "../../license/issue.ts";
import { buildAuditReport, exportEntries } from "../../ledger/audit.ts";
import { parseLedgerExport, verifyAuditReport } from "../../ledger/audit-verify.ts";
import { verifyLedger } from "../../ledger/verify.ts";

/** The box's database; never created here (an empty one would verify, misleadingly). */
function openExisting(dataDir: string): Db {
  if (!existsSync(join(dataDir, DB_FILE))) throw new HearthError("not_found", `${join(dataDir, DB_FILE)} does not exist: is --data-dir the box's data directory?`, { field: "data-dir" });
  return openDatabase(dataDir);
}

function devicePubkeyFlag(ctx: CommandContext): string | undefined {
  const key = stringFlag(ctx, "device-pubkey");
  if (key !== undefined && !publicKeyObject(key)) {
    throw new HearthError("invalid_request", `--device-pubkey: ${JSON.stringify(key)} is not an Ed25519 public key (base64 of 32 bytes)`, { field: "device-pubkey" });
  }
  return key;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new HearthError("invalid_request", `${what} ${path} ${hasErrno(err, "ENOENT") ? "does not exist" : `cannot be read (${(err as Error).message})`}`, { field: what });
  }
}

/** JSON Lines, written a page at a time: a year of records need not fit in one string. */
function writeExport(path: string, db: Db, firstSeq: number, lastSeq: number): number {
  const fd = openSync(path, "w");
  let lines: string[] = [];
  let count = 0;
  try {
    for (const entry of exportEntries(db, firstSeq, lastSeq)) {
      lines.push(JSON.stringify(entry));
      count++;
      if (lines.length === 4096) {
        writeSync(fd, lines.join("\n") + "\n");
        lines = [];
      }
    }
    if (lines.length > 0) writeSync(fd, lines.join("\n") + "\n");
  } finally {
    closeSync(fd);
  }
  return count;
}

const auditCommand: Command = {
  path: ["license", "audit"],
  summary: "Write a usage report for a period, signed by this device, for the vendor to verify offline",
  options: {
    since: { type: "string", value: "DATE", description: "Start of the period (YYYY-MM-DD is midnight UTC; default: the first record)" },
    until: { type: "string", value: "DATE", description: "End of the period, exclusive (default: now)" },
    out: { type: "string", value: "FILE", description: "Where to write the signed report (JSON)" },
    "ledger-out": { type: "string", value: "FILE", description: "Also write the period's records with their hashes (JSON Lines)" },
    ...DATA_DIR_OPTION,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const out = requiredFlag(ctx, "out");
    const since = ctx.values.since === undefined ? 0 : parseTimeFlag(requiredFlag(ctx, "since"), "since");
    const until = ctx.values.until === undefined ? systemClock.now() : parseTimeFlag(requiredFlag(ctx, "until"), "until");
    if (until <= since) throw new HearthError("invalid_request", "--until must be after --since", { field: "until" });
    const { dataDir } = commandConfig(ctx);
    const db = openExisting(dataDir);
    try {
      const signer = loadOrCreateDeviceIdentity(dataDir);
      const signed = buildAuditReport(db, { signer, licenseId: installedLicenseId(dataDir), since, until, clock: systemClock });
      const r = signed.report.records;
      const ledgerOut = stringFlag(ctx, "ledger-out");
      // The export is written first: a report on disk then always has its records next to it.
      if (ledgerOut !== undefined) writeExport(ledgerOut, db, r.firstSeq ?? 1, r.lastSeq ?? 0);
      writeFileSync(out, JSON.stringify(signed, null, 2) + "\n");
      const summary = { out, ledgerOut: ledgerOut ?? null, deviceId: signed.report.deviceId, licenseId: signed.report.licenseId, period: signed.report.period, ...r, checkpoints: signed.report.checkpoints.length };
      if (ctx.values.json) ctx.io.out(JSON.stringify(summary));
      else {
        const span = r.count === 0 ? "no records" : `${r.count} records (seq ${r.firstSeq} to ${r.lastSeq})`;
        ctx.io.out(
          `Wrote ${out}: ${span}, ${summary.checkpoints} signed checkpoints, ${signed.report.period.since} to ${signed.report.period.until}` +
            (ledgerOut ? `\nWrote ${ledgerOut}: the records with their hashes` : "") +
            `\nVerify with: hearth license verify-audit ${out} --device-pubkey ${signed.report.devicePublicKey}${ledgerOut ? ` --ledger ${ledgerOut}` : ""}`,
        );
      }
      return 0;
    } finally {
      db.close();
    }
  },
};

const verifyAuditCommand: Command = {
  path: ["license", "verify-audit"],
  summary: "Verify an audit report offline; with --ledger, find the first altered, deleted or reordered record",
  args: "FILE",
  options: {
    "device-pubkey": { type: "string", value: "KEY", description: "The device's public key (base64) the report must be signed with" },
    ledger: { type: "string", value: "FILE", description: "The report's record export (JSON Lines from audit --ledger-out)" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new HearthError("invalid_request", "the report FILE is required", { field: "file" });
    const devicePublicKey = devicePubkeyFlag(ctx);
    if (devicePublicKey === undefined) throw new HearthError("invalid_request", "--device-pubkey is required: trust the key the device registered, not the one the report names", { field: "device-pubkey" });
    let doc: unknown;
    try {
      doc = JSON.parse(readText(file, "file"));
    } catch (err) {
      if (err instanceof HearthError) throw err;
      throw new HearthError("audit_invalid", `${file} is not JSON`, { field: "file" });
    }
    const ledger = stringFlag(ctx, "ledger");
    const entries = ledger === undefined ? undefined : parseLedgerExport(readText(ledger, "ledger"));
    const result = verifyAuditReport(doc, { devicePublicKey, entries });
    const { report } = result;
    if (ctx.values.json) {
      ctx.io.out(JSON.stringify({ ok: result.ok, deviceId: report.deviceId, licenseId: report.licenseId, period: report.period, records: report.records, totals: report.totals, checkpoints: report.checkpoints.length, recordsVerified: result.recordsVerified, problems: result.problems }));
    } else if (result.ok) {
      const records = result.recordsVerified === null ? `${report.records.count} records (not checked: no --ledger)` : `${result.recordsVerified} records verified against the chain`;
      ctx.io.out(`OK: report of device ${report.deviceId} for ${report.period.since} to ${report.period.until}: signature valid, ${report.checkpoints.length} checkpoints valid, ${records}`);
    } else {
      const [first, ...rest] = result.problems;
      ctx.io.err(`FAILED: ${first!.message}${rest.map((p) => `\n  also: ${p.message}`).join("")}`);
    }
    return result.ok ? 0 : 1;
  },
};

const verifyLedgerCommand: Command = {
  path: ["license", "verify-ledger"],
  summary: "Verify this box's usage ledger: the hash chain and the signed checkpoints",
  options: {
    "device-pubkey": { type: "string", value: "KEY", description: "Key the checkpoints must be signed with (default: the device key in the data dir)" },
    ...DATA_DIR_OPTION,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const { dataDir } = commandConfig(ctx);
    const db = openExisting(dataDir);
    try {
      // Never create an identity here: checkpoints are held to the key the box already has.
      const devicePublicKey = devicePubkeyFlag(ctx) ?? (existsSync(join(dataDir, DEVICE_KEY_FILE)) ? loadOrCreateDeviceIdentity(dataDir).publicKey : undefined);
      const result = verifyLedger(db, { devicePublicKey });
      if (ctx.values.json) ctx.io.out(JSON.stringify(result));
      else if (result.ok) {
        const span = result.lastSeq === null ? "no records" : `${result.records} records (seq 1 to ${result.lastSeq}), head ${result.headHash}`;
        ctx.io.out(`OK: ${span}, ${result.checkpoints} signed checkpoints verified`);
      } else ctx.io.err(`FAILED at seq ${result.problem!.seq} (${result.problem!.kind}): ${result.problem!.message}`);
      return result.ok ? 0 : 1;
    } finally {
      db.close();
    }
  },
};

/** `hearth license audit|verify-audit|verify-ledger`: signed usage reports and their verification. */
export const licenseAuditCommands: Command[] = [auditCommand, verifyAuditCommand, verifyLedgerCommand];
