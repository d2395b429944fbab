/**
 * Usage totals per API key and per model, as checkpoints and audit reports carry them: sorted
 * arrays (a null key id cannot be an object key), so equal totals have one canonical form.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { Db } from "../store/db.ts";

const Counts = {
  requests: Type.Integer({ minimum: 0 }),
  promptTokens: Type.Integer({ minimum: 0 }),
  completionTokens: Type.Integer({ minimum: 0 }),
};

export const LedgerTotalsSchema = Type.Object(
  {
    byKey: Type.Array(Type.Object({ keyId: Type.Union([Type.String(), Type.Null()]), ...Counts }, { additionalProperties: false })),
    byModel: Type.Array(Type.Object({ model: Type.String(), ...Counts }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type LedgerTotals = Static<typeof LedgerTotalsSchema>;
export type UsageCounts = { requests: number; promptTokens: number; completionTokens: number };

export const EMPTY_TOTALS: LedgerTotals = { byKey: [], byModel: [] };

/** Accumulates totals record by record (offline verification) or group by group (SQL). */
export class TotalsBuilder {
  private readonly keys = new Map<string | null, UsageCounts>();
  private readonly models = new Map<string, UsageCounts>();

  constructor(start: LedgerTotals = EMPTY_TOTALS) {
    for (const k of start.byKey) this.keys.set(k.keyId, counts(k));
    for (const m of start.byModel) this.models.set(m.model, counts(m));
  }

  add(r: { keyId: string | null; model: string; promptTokens: number; completionTokens: number }): void {
    bump(this.keys, r.keyId, 1, r.promptTokens, r.completionTokens);
    bump(this.models, r.model, 1, r.promptTokens, r.completionTokens);
  }

  addKey(keyId: string | null, c: UsageCounts): void {
    bump(this.keys, keyId, c.requests, c.promptTokens, c.completionTokens);
  }

  addModel(model: string, c: UsageCounts): void {
    bump(this.models, model, c.requests, c.promptTokens, c.completionTokens);
  }

  totals(): LedgerTotals {
    return {
      byKey: [...this.keys].sort(([a], [b]) => order(a, b)).map(([keyId, c]) => ({ keyId, ...c })),
      byModel: [...this.models].sort(([a], [b]) => order(a, b)).map(([model, c]) => ({ model, ...c })),
    };
  }
}

const counts = (c: UsageCounts): UsageCounts => ({ requests: c.requests, promptTokens: c.promptTokens, completionTokens: c.completionTokens });

function bump<K>(map: Map<K, UsageCounts>, key: K, requests: number, prompt: number, completion: number): void {
  const c = map.get(key);
  if (c) {
    c.requests += requests;
    c.promptTokens += prompt;
    c.completionTokens += completion;
  } else map.set(key, { requests, promptTokens: prompt, completionTokens: completion });
}

/** null first, then by UTF-16 code units (the order canonical JSON uses for keys). */
function order(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** Totals of the records with `afterSeq < seq <= toSeq`, added onto `start`. */
export function totalsOfRange(db: Db, afterSeq: number, toSeq: number, start: LedgerTotals = EMPTY_TOTALS): LedgerTotals {
  const builder = new TotalsBuilder(start);
  const sums = "count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)";
  const range = "FROM usage_ledger WHERE seq > ? AND seq <= ?";
  for (const [keyId, requests, promptTokens, completionTokens] of db.prepare(`SELECT key_id, ${sums} ${range} GROUP BY key_id`).raw().all(afterSeq, toSeq) as [string | null, number, number, number][]) {
    builder.addKey(keyId, { requests, promptTokens, completionTokens });
  }
  for (const [model, requests, promptTokens, completionTokens] of db.prepare(`SELECT model, ${sums} ${range} GROUP BY model`).raw().all(afterSeq, toSeq) as [string, number, number, number][]) {
    builder.addModel(model, { requests, promptTokens, completionTokens });
  }
  return builder.totals();
}

/** `later - earlier`, entry by entry (the usage between two checkpoints); entries that end at zero are dropped. */
export function subtractTotals(later: LedgerTotals, earlier: LedgerTotals): LedgerTotals {
  const neg = (c: UsageCounts): UsageCounts => ({ requests: -c.requests, promptTokens: -c.promptTokens, completionTokens: -c.completionTokens });
  const builder = new TotalsBuilder(later);
  for (const k of earlier.byKey) builder.addKey(k.keyId, neg(k));
  for (const m of earlier.byModel) builder.addModel(m.model, neg(m));
  const t = builder.totals();
  const nonZero = (c: UsageCounts) => c.requests !== 0 || c.promptTokens !== 0 || c.completionTokens !== 0;
  return { byKey: t.byKey.filter(nonZero), byModel: t.byModel.filter(nonZero) };
}

/** The first difference between two totals, in words, or null when they are equal. */
export function totalsDifference(actual: LedgerTotals, expected: LedgerTotals): string | null {
  const diff = subtractTotals(actual, expected);
  const k = diff.byKey[0];
  if (k) return `key ${k.keyId ?? "(none)"}: ${describe(actual.byKey.find((x) => x.keyId === k.keyId))} instead of ${describe(expected.byKey.find((x) => x.keyId === k.keyId))}`;
  const m = diff.byModel[0];
  if (m) return `model ${m.model}: ${describe(actual.byModel.find((x) => x.model === m.model))} instead of ${describe(expected.byModel.find((x) => x.model === m.model))}`;
  return null;
}

const describe = (c: UsageCounts | undefined) =>
  c ? `${c.requests} requests, ${c.promptTokens} prompt and ${c.completionTokens} completion tokens` : "nothing";

/** True when no entry of `part` exceeds the same entry of `whole` (usage inside a span cannot exceed it). */
export function totalsWithin(part: LedgerTotals, whole: LedgerTotals): boolean {
  const fits = (p: UsageCounts, w: UsageCounts | undefined) =>
    p.requests <= (w?.requests ?? 0) && p.promptTokens <= (w?.promptTokens ?? 0) && p.completionTokens <= (w?.completionTokens ?? 0);
  return part.byKey.every((p) => fits(p, whole.byKey.find((w) => w.keyId === p.keyId))) && part.byModel.every((p) => fits(p, whole.byModel.find((w) => w.model === p.model)));
}
