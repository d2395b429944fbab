/**
 * What verification walks: the box's database (walk-db.ts) or records read from an export. A
 * source checks the chain from an anchor and answers the questions checkpoints ask of it.
 */
import { recordHashHex, type LedgerEntry } from "./chain.ts";
import { diagnose, type LedgerProblem } from "./diagnose.ts";
import { TotalsBuilder, type LedgerTotals } from "./totals.ts";

/** Where a span of the chain starts: its first seq and the hash that record must chain to. */
export interface Anchor {
  seq: number;
  prevHash: string;
}

export interface WalkResult {
  /** Records that verified, from the anchor on. */
  records: number;
  /** The last record that verified, and its hash. */
  lastSeq: number | null;
  headHash: string | null;
  /** The first bad position, or null when every record verified. */
  failure: LedgerProblem | null;
}

export interface LedgerSource {
  walk(anchor: Anchor): WalkResult;
  /** The stored hash of a verified record. */
  hashAt(seq: number): string | null;
  /** Totals of the verified records with `afterSeq < seq <= toSeq`, added onto `start`. */
  totals(afterSeq: number, toSeq: number, start?: LedgerTotals): LedgerTotals;
  /** Whether totals are cheap enough to check at every checkpoint (else only at the last). */
  totalsAtEveryCheckpoint: boolean;
}

/** Records in the order given (an export's lines), each checked with the exact definition. */
export function entriesSource(entries: readonly LedgerEntry[]): LedgerSource {
  let first = 0;
  const indexOf = (seq: number) => seq - first;
  return {
    walk(anchor) {
      first = anchor.seq;
      let prev = anchor.prevHash;
      let prevPrev: string | null = null;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        const expectedSeq = anchor.seq + i;
        if (e.seq !== expectedSeq || e.prevHash !== prev || recordHashHex(prev, e) !== e.hash) {
          const failure = diagnose({ expectedSeq, expectedPrev: prev, prevPrev, firstSeq: anchor.seq, bad: e, next: entries[i + 1] ?? null, scan: () => entries, sorted: false });
          return { records: i, lastSeq: i > 0 ? expectedSeq - 1 : null, headHash: i > 0 ? prev : null, failure };
        }
        prevPrev = prev;
        prev = e.hash;
      }
      const n = entries.length;
      return { records: n, lastSeq: n > 0 ? anchor.seq + n - 1 : null, headHash: n > 0 ? prev : null, failure: null };
    },
    hashAt(seq) {
      return entries[indexOf(seq)]?.hash ?? null;
    },
    totalsAtEveryCheckpoint: true,
    totals(afterSeq, toSeq, start) {
      const builder = new TotalsBuilder(start);
      for (let i = Math.max(0, indexOf(afterSeq + 1)); i <= indexOf(toSeq) && i < entries.length; i++) builder.add(entries[i]!);
      return builder.totals();
    },
  };
}
