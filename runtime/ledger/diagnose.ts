/**
 * Names what is wrong at the first record that breaks the chain: edited, deleted, inserted or
 * reordered, and at which seq. Runs only after a failure, so it may scan the whole ledger.
 */
import { recordHashHex, type LedgerEntry } from "./chain.ts";

export type LedgerProblemKind =
  | "edited" // a record's fields no longer match its hash, or it was rewritten with a new one
  | "deleted" // records are missing
  | "inserted" // a record that is not part of the chain
  | "reordered" // a record is not where it was written
  | "rewritten" // records were re-hashed into a consistent chain: only a signed hash shows it
  | "unchained" // a record has no hash (written with the chain off)
  | "checkpoint_forged" // a checkpoint not signed by the device key
  | "checkpoint_mismatch"; // a signed checkpoint disagrees with the records it covers

export interface LedgerProblem {
  kind: LedgerProblemKind;
  /** The first bad position. */
  seq: number;
  message: string;
}

export interface FailureContext {
  /** The seq the failing record should have, and the hash it should chain to. */
  expectedSeq: number;
  expectedPrev: string;
  /** The hash before `expectedPrev` (null at the first record). */
  prevPrev: string | null;
  /** The first seq of the records verified (a predecessor exists only after it). */
  firstSeq: number;
  bad: LedgerEntry;
  next: LedgerEntry | null;
  /** Every record, in order: searched for where a moved record was written. */
  scan(): Iterable<LedgerEntry>;
  /** Records come sorted by seq (a database): a missing seq cannot turn up later. */
  sorted: boolean;
}

type Home = { seq: number; via: "row" | "fields"; predecessorPresent: boolean };

/**
 * Where the failing record's fields were written: at seq q, with the hashes stored at q (only the
 * fields were swapped) or with its own hashes (the whole row was moved or renumbered).
 */
function findHome(ctx: FailureContext): Home | null {
  const { bad } = ctx;
  let predecessorPresent = false;
  let home: Home | null = null;
  for (const e of ctx.scan()) {
    if (e.hash === bad.prevHash) predecessorPresent = true;
    if (home || e.seq === bad.seq) continue;
    const moved = { ...bad, seq: e.seq };
    if (recordHashHex(e.prevHash, moved) === e.hash) home = { seq: e.seq, via: "fields", predecessorPresent: false };
    else if (recordHashHex(bad.prevHash, moved) === bad.hash) home = { seq: e.seq, via: "row", predecessorPresent: false };
  }
  return home && { ...home, predecessorPresent };
}

export function diagnose(ctx: FailureContext): LedgerProblem {
  const { bad, expectedSeq: p } = ctx;
  if (bad.seq < p) {
    return { kind: "inserted", seq: bad.seq, message: `seq ${bad.seq} was inserted: a record numbered ${bad.seq} appears where seq ${p} should be` };
  }
  if (bad.seq > p) {
    for (const e of ctx.sorted ? [] : ctx.scan()) {
      if (e.seq === p) return { kind: "reordered", seq: p, message: `seq ${p} was moved: seq ${bad.seq} comes before it` };
    }
    const range = bad.seq - 1 === p ? `seq ${p} is` : `seq ${p} to ${bad.seq - 1} are`;
    return { kind: "deleted", seq: p, message: `${range} missing (deleted): the next record is seq ${bad.seq}` };
  }
  if (bad.hash === "" || bad.prevHash === "") return { kind: "unchained", seq: p, message: `seq ${p} has no hash (written with the chain off, or its hash was removed)` };

  const linked = bad.prevHash === ctx.expectedPrev;
  if (!linked && recordHashHex(ctx.expectedPrev, bad) === bad.hash) {
    return { kind: "edited", seq: p, message: `seq ${p} was edited: its prev_hash is not the previous record's hash` };
  }
  const selfConsistent = recordHashHex(bad.prevHash, bad) === bad.hash;
  const hasPredecessor = p > ctx.firstSeq;
  if (!linked && hasPredecessor && bad.prevHash === ctx.prevPrev) {
    return { kind: "inserted", seq: p - 1, message: `seq ${p - 1} was inserted: seq ${p} was chained directly to the record before it` };
  }
  const home = findHome(ctx);
  if (home?.via === "row" && !home.predecessorPresent && home.seq > p) {
    return { kind: "deleted", seq: p, message: `seq ${p} holds the record written as seq ${home.seq}: the record(s) before it were deleted and the rest renumbered` };
  }
  if (home) return { kind: "reordered", seq: p, message: `seq ${p} holds the record written as seq ${home.seq} (records were reordered)` };
  if (!linked && ctx.next?.prevHash === ctx.expectedPrev) {
    return { kind: "inserted", seq: p, message: `seq ${p} was inserted: seq ${ctx.next.seq} is chained to the record before it` };
  }
  if (linked) return { kind: "edited", seq: p, message: `seq ${p} was edited: its fields do not match its hash` };
  if (selfConsistent && hasPredecessor && (!ctx.next || ctx.next.prevHash === bad.hash)) {
    return { kind: "edited", seq: p - 1, message: `seq ${p - 1} was edited and re-hashed: seq ${p} was chained to a different record` };
  }
  const chainedTo = hasPredecessor ? `seq ${p - 1}` : "the start of the span";
  return { kind: "edited", seq: p, message: `seq ${p} was altered: it does not chain to ${chainedTo}${selfConsistent ? "" : " and its fields do not match its hash"}` };
}
