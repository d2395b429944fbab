/**
 * Verifies the usage ledger, on the box (its database) or offline (an export's records): the hash
 * chain record by record, then the signed checkpoints against it. The answer is ok, or the first
 * bad position and what is wrong there.
 */
import type { Db } from "../store/db.ts";
import { ZERO_HASH_HEX, type LedgerEntry } from "./chain.ts";
import { checkpointSignatureValid, readCheckpoints, type SignedCheckpoint, type StoredCheckpoint } from "./checkpoints.ts";
import type { LedgerProblem } from "./diagnose.ts";
import { EMPTY_TOTALS, totalsDifference, type LedgerTotals } from "./totals.ts";
import { dbSource } from "./walk-db.ts";
import { entriesSource, type Anchor, type LedgerSource, type WalkResult } from "./walk.ts";

export type { LedgerProblem, LedgerProblemKind } from "./diagnose.ts";

export interface VerifyLedgerOptions {
  /** Where the records start (default: seq 1, chained to 32 zero bytes). */
  anchor?: Anchor;
  /** Where they must end, e.g. an audit report's last record. */
  end?: { seq: number; hash: string };
  /** Checkpoints to hold the records to (default for a database: the ones it stores). */
  checkpoints?: readonly (SignedCheckpoint | StoredCheckpoint)[];
  /** The key checkpoints must be signed with (default: the key the first one names). */
  devicePublicKey?: string;
}

export interface LedgerVerification {
  ok: boolean;
  /** Records that verified before the first problem (all of them when ok). */
  records: number;
  lastSeq: number | null;
  headHash: string | null;
  checkpoints: number;
  problem: LedgerProblem | null;
}

const isDb = (x: unknown): x is Db => typeof (x as Db).prepare === "function";

export function verifyLedger(source: Db | Iterable<LedgerEntry>, opts: VerifyLedgerOptions = {}): LedgerVerification {
  if (isDb(source)) {
    // One read transaction: the chain and the checkpoints are seen at the same instant even while
    // the server keeps appending.
    return source.transaction(() => verifySource(dbSource(source), { checkpoints: readCheckpoints(source), ...opts }))();
  }
  return verifySource(entriesSource(Array.isArray(source) ? source : [...source]), opts);
}

function verifySource(source: LedgerSource, opts: VerifyLedgerOptions): LedgerVerification {
  const anchor = opts.anchor ?? { seq: 1, prevHash: ZERO_HASH_HEX };
  const walk = source.walk(anchor);
  const checkpoints = (opts.checkpoints ?? []).map((c): StoredCheckpoint => ("payload" in c ? { id: 0, ledgerSeq: c.payload.ledgerSeq, checkpoint: c } : c));
  const checked = checkCheckpoints(source, walk, anchor, checkpoints, opts.devicePublicKey);
  const problems = [walk.failure, ...checked.problems, opts.end && !walk.failure ? endProblem(walk, anchor, opts.end, checked.lastGood) : null];
  // The first bad position wins; on a tie, the chain's own finding (listed first) is the precise one.
  const problem = problems.reduce<LedgerProblem | null>((first, p) => (p && (!first || p.seq < first.seq) ? p : first), null);
  return { ok: problem === null, records: walk.records, lastSeq: walk.lastSeq, headHash: walk.headHash, checkpoints: checkpoints.length, problem };
}

function checkCheckpoints(
  source: LedgerSource,
  walk: WalkResult,
  anchor: Anchor,
  checkpoints: readonly StoredCheckpoint[],
  key: string | undefined,
): { problems: LedgerProblem[]; lastGood: number } {
  const problems: LedgerProblem[] = [];
  const publicKey = key ?? checkpoints.map((c) => ("checkpoint" in c ? c.checkpoint.payload.devicePublicKey : undefined)).find((k) => k !== undefined);
  // A checkpoint is held only to records before the chain's first bad position: at or after it,
  // the chain's own finding is the precise one.
  const verifiedTo = Math.min(walk.lastSeq ?? anchor.seq - 1, walk.failure ? walk.failure.seq - 1 : Infinity);
  // Counts and totals are cumulative from seq 1: from the ledger's start they are checked outright,
  // within a span only as differences between two checkpoints.
  type Mark = { seq: number; count: number; totals: LedgerTotals };
  let base: Mark | null = anchor.seq === 1 ? { seq: 0, count: 0, totals: EMPTY_TOTALS } : null;
  let previous: Mark | null = null;
  let lastGood = anchor.seq - 1;
  for (const stored of [...checkpoints].sort((a, b) => a.ledgerSeq - b.ledgerSeq)) {
    if ("malformed" in stored) {
      problems.push({ kind: "checkpoint_forged", seq: stored.ledgerSeq, message: `the checkpoint at seq ${stored.ledgerSeq} is malformed: ${stored.malformed}` });
      continue;
    }
    const cp = stored.checkpoint.payload;
    const at = cp.ledgerSeq;
    if (at !== stored.ledgerSeq || !publicKey || cp.devicePublicKey !== publicKey || !checkpointSignatureValid(stored.checkpoint, publicKey)) {
      problems.push({ kind: "checkpoint_forged", seq: at, message: `the checkpoint at seq ${at} is not signed by the device key` });
      continue;
    }
    if (at > verifiedTo) {
      // Past a chain failure nothing more can be said; past the end, records were cut off.
      if (!walk.failure) {
        const from = verifiedTo + 1;
        problems.push({ kind: "deleted", seq: from, message: `seq ${from} to ${at} are missing (deleted): the device signed a checkpoint at seq ${at}, the records end at seq ${verifiedTo}` });
      }
      continue;
    }
    const hash = at >= anchor.seq ? source.hashAt(at) : at === anchor.seq - 1 ? anchor.prevHash : null;
    if (hash === null) continue;
    if (hash !== cp.headHash) {
      const from = lastGood + 1;
      problems.push({ kind: "rewritten", seq: from, message: `seq ${from} to ${at} were rewritten: the hash at seq ${at} is not the one the device signed in its checkpoint` });
      continue;
    }
    lastGood = at;
    if (base && cp.count - base.count !== at - base.seq) {
      problems.push({ kind: "checkpoint_mismatch", seq: at, message: `the checkpoint at seq ${at} disagrees with the records: it counts ${cp.count - base.count} records after seq ${base.seq}, the ledger has ${at - base.seq}` });
    } else if (base && source.totalsAtEveryCheckpoint) totalsProblem(source, base, cp, problems);
    previous = base;
    base = { seq: at, count: cp.count, totals: cp.totals };
  }
  // A matching head hash already proves the records are the ones the device signed; the totals
  // are the device's own arithmetic over them. Where summing at every checkpoint would cost more
  // than the chain itself (a database), the last interval is summed as a check of that arithmetic.
  if (!source.totalsAtEveryCheckpoint && previous && base) totalsProblem(source, previous, { ledgerSeq: base.seq, totals: base.totals }, problems);
  return { problems, lastGood };
}

function totalsProblem(source: LedgerSource, from: { seq: number; totals: LedgerTotals }, cp: { ledgerSeq: number; totals: LedgerTotals }, problems: LedgerProblem[]): void {
  const difference = totalsDifference(cp.totals, source.totals(from.seq, cp.ledgerSeq, from.totals));
  if (difference) problems.push({ kind: "checkpoint_mismatch", seq: cp.ledgerSeq, message: `the checkpoint at seq ${cp.ledgerSeq} disagrees with the records: ${difference}` });
}

function endProblem(walk: WalkResult, anchor: Anchor, end: { seq: number; hash: string }, lastGood: number): LedgerProblem | null {
  const last = walk.lastSeq ?? anchor.seq - 1;
  if (last < end.seq) return { kind: "deleted", seq: last + 1, message: `seq ${last + 1} to ${end.seq} are missing (deleted): the records end at seq ${last}` };
  if (last > end.seq) return { kind: "inserted", seq: end.seq + 1, message: `seq ${end.seq + 1} to ${last} were added after the last signed record, seq ${end.seq}` };
  if (walk.headHash !== end.hash) {
    const from = Math.max(lastGood + 1, anchor.seq);
    return { kind: "rewritten", seq: from, message: `seq ${from} to ${end.seq} were rewritten: the hash at seq ${end.seq} is not the one the device signed` };
  }
  return null;
}
