/**
 * Usage deltas from the usage ledger: the records since the last one reported, as totals and per
 * model (counts only: no key ids, no request ids, no text). Each message carries the device's
 * next usage `seq` and the ledger range it covers; the cursor moves in the same transaction as
 * the enqueue, so a crash can neither skip nor repeat a range.
 */
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import { Cursors } from "./cursor.ts";
import { messageId } from "./ids.ts";
import type { UsageMessage } from "./messages.ts";
import type { Outbox } from "./outbox.ts";
import type { Tier } from "./policy.ts";

export const USAGE_LEDGER_CURSOR = "usage.ledger_seq";
export const USAGE_SEQ_CURSOR = "usage.seq";

type Counts = { requests: number; promptTokens: number; completionTokens: number };

export interface UsageFeedOptions {
  db: Db;
  outbox: Outbox;
  clock: Clock;
  device: string;
  fleet: string;
}

export class UsageFeed {
  private readonly produceTx;

  constructor(private readonly opts: UsageFeedOptions) {
    const { db } = opts;
    const cursors = new Cursors(db);
    const head = db.prepare("SELECT coalesce(max(seq), 0) FROM usage_ledger").pluck();
    const byModel = db
      .prepare(
        `SELECT model, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
         FROM usage_ledger WHERE seq > ? AND seq <= ? GROUP BY model ORDER BY model`,
      )
      .raw();
    this.produceTx = db.transaction((who: { tier: Tier; licenseId: string | null }): UsageMessage | null => {
      const from = cursors.get(USAGE_LEDGER_CURSOR);
      const to = head.get() as number;
      if (to <= from) return null;
      const totals: Counts = { requests: 0, promptTokens: 0, completionTokens: 0 };
      const models: Record<string, Counts> = {};
      for (const [model, requests, promptTokens, completionTokens] of byModel.all(from, to) as [string, number, number, number][]) {
        models[model.slice(0, 128)] = { requests, promptTokens, completionTokens };
        totals.requests += requests;
        totals.promptTokens += promptTokens;
        totals.completionTokens += completionTokens;
      }
      const seq = cursors.get(USAGE_SEQ_CURSOR) + 1;
      const now = opts.clock.now();
      const message: UsageMessage = {
        v: 1,
        id: messageId("u", opts.clock),
        device: opts.device,
        fleet: opts.fleet,
        ts: new Date(now).toISOString(),
        seq,
        fromLedgerSeq: from,
        toLedgerSeq: to,
        totals,
        byModel: models,
        tier: who.tier,
        ...(who.licenseId ? { licenseId: who.licenseId } : {}),
      };
      opts.outbox.enqueue("usage", message);
      cursors.set(USAGE_LEDGER_CURSOR, to);
      cursors.set(USAGE_SEQ_CURSOR, seq);
      return message;
    });
  }

  /** Enqueues the delta since the last report; null when the ledger has nothing new. */
  produce(who: { tier: Tier; licenseId: string | null }): UsageMessage | null {
    return this.produceTx.immediate(who);
  }
}
