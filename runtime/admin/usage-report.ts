/**
 * Usage per UTC day and per key from the usage ledger, for a period ending today. Days without
 * requests are filled with zeros where a chart needs a continuous axis.
 */
import type { Db } from "../store/db.ts";
import type { UsageDay, UsageResponse } from "./schemas/keys.ts";

const DAY_MS = 86_400_000;

export interface Period {
  from: string;
  to: string;
  /** First millisecond of `from`. */
  startMs: number;
  days: string[];
}

export function periodEnding(nowMs: number, days: number): Period {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const startMs = today - (days - 1) * DAY_MS;
  const list = Array.from({ length: days }, (_, i) => new Date(startMs + i * DAY_MS).toISOString().slice(0, 10));
  return { from: list[0]!, to: list[list.length - 1]!, startMs, days: list };
}

type Row = { day: string; key_id: string | null; requests: number; prompt: number; completion: number };

function rows(db: Db, startMs: number, keyId?: string): Row[] {
  const byKey = keyId === undefined ? "" : "AND key_id = @keyId";
  return db
    .prepare(
      `SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, key_id, COUNT(*) AS requests,
              SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion
       FROM usage_ledger WHERE created_at >= @startMs ${byKey} GROUP BY day, key_id ORDER BY day`,
    )
    .all({ startMs, ...(keyId === undefined ? {} : { keyId }) }) as Row[];
}

const zero = (date: string): UsageDay => ({ date, requests: 0, promptTokens: 0, completionTokens: 0 });

function add(into: UsageDay, r: Row): void {
  into.requests += r.requests;
  into.promptTokens += r.prompt;
  into.completionTokens += r.completion;
}

/** Every day of the period with the rows' sums (rows dated after today, from a clock set back, are left out). */
function perDay(period: Period, list: Row[]): UsageDay[] {
  const days = new Map(period.days.map((d) => [d, zero(d)]));
  for (const r of list) {
    const day = days.get(r.day);
    if (day) add(day, r);
  }
  return [...days.values()];
}

export function keyUsage(db: Db, keyId: string, period: Period): UsageDay[] {
  return perDay(period, rows(db, period.startMs, keyId));
}

export function usageSummary(db: Db, period: Period, names: Map<string, string>): UsageResponse {
  const list = rows(db, period.startMs).filter((r) => r.day <= period.to);
  const days = perDay(period, list);
  const keys = new Map<string | null, UsageResponse["perKey"][number]>();
  for (const r of list) {
    let k = keys.get(r.key_id);
    if (!k) keys.set(r.key_id, (k = { keyId: r.key_id, name: r.key_id === null ? null : (names.get(r.key_id) ?? null), requests: 0, promptTokens: 0, completionTokens: 0, perDay: [] }));
    k.requests += r.requests;
    k.promptTokens += r.prompt;
    k.completionTokens += r.completion;
    const day = zero(r.day);
    add(day, r);
    k.perDay.push(day);
  }
  const totals = days.reduce((t, d) => ({ requests: t.requests + d.requests, promptTokens: t.promptTokens + d.promptTokens, completionTokens: t.completionTokens + d.completionTokens }), {
    requests: 0,
    promptTokens: 0,
    completionTokens: 0,
  });
  const perKey = [...keys.values()].sort((a, b) => b.promptTokens + b.completionTokens - (a.promptTokens + a.completionTokens));
  return { from: period.from, to: period.to, totals, perDay: days, perKey };
}
