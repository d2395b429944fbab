/** Walks the chain in the database, fast (see chainScan), and diagnoses the first failure. */
import type { Db } from "../store/db.ts";
import { fromHex, recordHash, toHex, type LedgerEntry } from "./chain.ts";
import { diagnose, type LedgerProblem } from "./diagnose.ts";
import { totalsOfRange, type LedgerTotals } from "./totals.ts";
import type { Anchor, LedgerSource } from "./walk.ts";

const FIELDS = "seq, request_id, key_id, model, endpoint, prompt_tokens, completion_tokens, duration_ms, outcome, created_at";
/** Seq numbers per page: few native calls per record, without holding much memory. */
const PAGE = 2048;

type Row = [number, string, string | null, string, string, number, number, number, LedgerEntry["outcome"], number, Buffer | null, Buffer | null];

function entryOf(r: Row): LedgerEntry {
  const [seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt, prev, hash] = r;
  const hex = (b: Buffer | null) => (b && b.length === 32 ? toHex(b) : "");
  return { seq, requestId, keyId, model, endpoint, promptTokens, completionTokens, durationMs, outcome, createdAt, prevHash: hex(prev), hash: hex(hash) };
}

export function dbSource(db: Db): LedgerSource {
  const rowAt = db.prepare(`SELECT ${FIELDS}, prev_hash, hash FROM usage_ledger WHERE seq = ?`).raw();
  const rowAfter = db.prepare(`SELECT ${FIELDS}, prev_hash, hash FROM usage_ledger WHERE seq > ? ORDER BY seq LIMIT 1`).raw();
  const hashAt = db.prepare("SELECT hash FROM usage_ledger WHERE seq = ?").pluck();
  const entryAt = (seq: number) => entryOf(rowAt.get(seq) as Row);
  const entryAfter = (seq: number) => {
    const r = rowAfter.get(seq) as Row | undefined;
    return r ? entryOf(r) : null;
  };
  function* scan(): Generator<LedgerEntry> {
    const page = db.prepare(`SELECT ${FIELDS}, prev_hash, hash FROM usage_ledger WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`).raw();
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const rows = page.all(after) as Row[];
      if (rows.length === 0) return;
      for (const r of rows) yield entryOf(r);
      after = rows[rows.length - 1]![0];
    }
  }

  return {
    walk(anchor) {
      const before = db.prepare("SELECT seq, hash FROM usage_ledger WHERE seq < ? ORDER BY seq DESC LIMIT 1").raw();
      const predecessor = (seq: number) => before.get(seq) as [number, Buffer | null] | undefined;
      /** The record at `seq`, checked on its own against its predecessor in the database. */
      const exactlyChained = (seq: number): boolean => {
        const row = rowAt.get(seq) as Row | undefined;
        const previous = predecessor(seq);
        const prev = previous ? previous[1] : fromHex(anchor.prevHash);
        const [prevHash, hash] = [row?.[10], row?.[11]];
        return !!row && !!prev && !!prevHash && !!hash && prevHash.equals(prev) && recordHash(prev, entryOf(row)).equals(hash);
      };
      const state = chainScan(db, anchor, exactlyChained);
      const lastVerified = state.failedSeq === null ? (db.prepare("SELECT max(seq), hash FROM usage_ledger").raw().get() as [number | null, Buffer | null]) : (predecessor(state.failedSeq) ?? [null, null]);
      const lastSeq = state.records > 0 ? lastVerified[0] : null;
      const head = lastSeq === null ? null : toHex(lastVerified[1]!);
      let failure: LedgerProblem | null = null;
      if (state.failedSeq !== null) {
        const beforeLast = lastSeq === null ? undefined : predecessor(lastSeq);
        failure = diagnose({
          expectedSeq: lastSeq === null ? anchor.seq : lastSeq + 1,
          expectedPrev: head ?? anchor.prevHash,
          prevPrev: lastSeq === null ? null : beforeLast?.[1] ? toHex(beforeLast[1]) : anchor.prevHash,
          firstSeq: anchor.seq,
          bad: entryAt(state.failedSeq),
          next: entryAfter(state.failedSeq),
          scan,
          sorted: true,
        });
      }
      // The hashes catch nearly every gap in the numbering, not one where a record was chained
      // straight onto the one before a deleted tail: that is looked for in SQL, only when seq skips.
      const numbering = lastSeq !== null && !state.numbered ? numberingProblem(db, anchor, lastSeq) : null;
      const tail = failure === null ? tailProblem(db, lastSeq ?? anchor.seq - 1) : null;
      const first = [failure, numbering, tail].reduce<LedgerProblem | null>((a, p) => (p && (!a || p.seq < a.seq) ? p : a), null);
      return { records: state.records, lastSeq, headHash: head, failure: first };
    },
    hashAt(seq) {
      const hash = hashAt.get(seq) as Buffer | null | undefined;
      return hash ? toHex(hash) : null;
    },
    totalsAtEveryCheckpoint: false,
    totals(afterSeq, toSeq, start?: LedgerTotals) {
      return totalsOfRange(db, afterSeq, toSeq, start);
    },
  };
}

/** A 32-byte hash column, or 32 zero bytes when it is not one (keeps a page's hashes aligned). */
const hash32 = (column: string) => `iif(length(${column}) = 32, ${column}, zeroblob(32))`;

/** The seq at the start of a record's chain JSON in `bytes` (`[seq,...`). */
function seqAt(bytes: Buffer, pos: number): number {
  let i = pos + 1;
  const negative = bytes[i] === 45; // "-"
  if (negative) i++;
  let n = 0;
  for (let c = bytes[i]!; c >= 48 && c <= 57; c = bytes[++i]!) n = n * 10 + (c - 48);
  return negative ? -n : n;
}

/**
 * The hot loop, with nothing captured by closures (captured variables live on the heap). SQLite
 * hands over a page of records as three blobs: their chain JSON (json_array, in C) one per line,
 * their hashes and their prev_hashes, 32 bytes each. A record then costs one copy, one SHA-256
 * into a reused buffer and one 32-byte compare; prev_hash is compared a page at a time. Anything
 * that does not match is re-checked against the database row by row (`exactlyChained`), so the
 * fast path can only be faster, never wrong. Stops at the first record that fails.
 */
function chainScan(db: Db, anchor: Anchor, exactlyChained: (seq: number) => boolean) {
  // Pages by seq value (a rowid range, no subquery): a range with no records skips to the next one.
  const page = db
    .prepare(
      `SELECT min(seq), max(seq), count(*), CAST(group_concat(json_array(${FIELDS}), char(10)) AS BLOB),
              CAST(group_concat(${hash32("hash")}, '') AS BLOB), CAST(group_concat(${hash32("prev_hash")}, '') AS BLOB)
       FROM usage_ledger WHERE seq > ? AND seq <= ? + ${PAGE}`,
    )
    .raw();
  const nextAfter = db.prepare("SELECT min(seq) - 1 FROM usage_ledger WHERE seq > ?").pluck();
  // input = the previous record's hash (32 bytes), then this record's JSON: what SHA-256 covers.
  let input = Buffer.alloc(4096);
  input.write(anchor.prevHash, 0, "hex");
  const digest = Buffer.alloc(32);
  let records = 0;
  let numbered = true;
  let nextSeq = anchor.seq;
  for (let after = nextAfter.get(Number.MIN_SAFE_INTEGER) as number | null; after !== null; ) {
    const [firstSeq, lastSeq, n, json, hashes, prevs] = page.get(after, after) as [number | null, number, number, Buffer, Buffer, Buffer];
    if (firstSeq === null) {
      after = nextAfter.get(after + PAGE) as number | null;
      continue;
    }
    if (firstSeq !== nextSeq || lastSeq - firstSeq + 1 !== n) numbered = false;
    nextSeq = lastSeq + 1;
    // Each prev_hash is the hash before it: the previous page's last, then this page's, shifted.
    const linked = prevs.compare(input, 0, 32, 0, 32) === 0 && prevs.compare(hashes, 0, 32 * (n - 1), 32, 32 * n) === 0;
    for (let i = 0, pos = 0; i < n; i++) {
      let end = json.indexOf(10, pos);
      if (end < 0) end = json.length;
      if (input.length < 32 + end - pos) input = Buffer.concat([input.subarray(0, 32), Buffer.alloc(2 * (end - pos))]);
      json.copy(input, 32, pos, end);
      Bun.SHA256.hash(input.subarray(0, 32 + end - pos), digest);
      const o = 32 * i;
      if (linked && hashes.compare(digest, 0, 32, o, o + 32) === 0) input.set(digest, 0);
      else {
        const seq = seqAt(json, pos);
        if (!exactlyChained(seq)) return { records, numbered, failedSeq: seq };
        hashes.copy(input, 0, o, o + 32);
      }
      records++;
      pos = end + 1;
    }
    after = lastSeq;
  }
  return { records, numbered, failedSeq: null };
}

/** The first break in the numbering from the anchor up to `lastSeq`, if any. */
function numberingProblem(db: Db, anchor: { seq: number }, lastSeq: number): LedgerProblem | null {
  const [count, first] = db.prepare("SELECT count(*), min(seq) FROM usage_ledger WHERE seq <= ?").raw().get(lastSeq) as [number, number];
  if (first < anchor.seq) return { kind: "inserted", seq: first, message: `seq ${first} was inserted: the ledger starts at seq ${anchor.seq}` };
  if (first > anchor.seq) return { kind: "deleted", seq: anchor.seq, message: `seq ${anchor.seq} to ${first - 1} are missing (deleted): the first record is seq ${first}` };
  if (count === lastSeq - anchor.seq + 1) return null;
  const gap = db
    .prepare("SELECT a.seq + 1 FROM usage_ledger a WHERE a.seq < ? AND NOT EXISTS (SELECT 1 FROM usage_ledger b WHERE b.seq = a.seq + 1) ORDER BY a.seq LIMIT 1")
    .pluck()
    .get(lastSeq) as number;
  const next = db.prepare("SELECT min(seq) FROM usage_ledger WHERE seq > ?").pluck().get(gap) as number;
  const range = next - 1 === gap ? `seq ${gap} is` : `seq ${gap} to ${next - 1} are`;
  return { kind: "deleted", seq: gap, message: `${range} missing (deleted): the next record is seq ${next}` };
}

/**
 * SQLite remembers the highest seq it ever handed out (sqlite_sequence): above the last record,
 * records were deleted from the end, which the chain alone cannot show.
 */
function tailProblem(db: Db, lastSeq: number): LedgerProblem | null {
  const highest = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'usage_ledger'").pluck().get() as number | undefined;
  if (highest === undefined || highest <= lastSeq) return null;
  return { kind: "deleted", seq: lastSeq + 1, message: `seq ${lastSeq + 1} to ${highest} are missing (deleted): records were numbered up to seq ${highest}` };
}
