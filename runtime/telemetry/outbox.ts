/**
 * The telemetry outbox: every outgoing message is validated and committed here (durable:
 * synchronous=FULL) before anything tries to send it, published QoS 1 in id order, and removed
 * only after the broker's PUBACK, or, with receipts on, usage and audit messages only once the
 * collector's receipt names them (after the PUBACK they wait with a time to go again). The
 * outbox is bounded: beyond `maxMessages` it gives up state rows superseded by a newer state and
 * then the oldest health samples; usage, audit, OTA events and command acks are never dropped
 * (over the bound with only those left, they are kept and the excess is logged).
 */
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { validate } from "../validation.ts";
import { CHANNEL_SCHEMAS } from "./messages.ts";
import { deviceTopic, type DeviceChannel } from "./topics.ts";

/** What the box sends (`cmd` and `receipt` only arrive). */
export type OutboxChannel = Exclude<DeviceChannel, "cmd" | "receipt">;
export const OUTBOX_CHANNELS: readonly OutboxChannel[] = ["state", "health", "usage", "audit", "ota", "cmd/ack"];
/** Kept for the collector's receipt when receipts are on: what the license audit is made of. */
export const RECEIPTED_CHANNELS: readonly OutboxChannel[] = ["usage", "audit"];
const RECEIPTED_SQL = "('usage', 'audit')";
/** The longest wait between two resends of a message nobody receipts. */
export const MAX_RESEND_MS = 6 * 3_600_000;

export interface OutboxRow {
  id: number;
  channel: OutboxChannel;
  topic: string;
  payload: string;
  retain: boolean;
}

export interface OutboxDepth {
  total: number;
  byChannel: Record<OutboxChannel, number>;
}

export interface OutboxOptions {
  maxMessages: number;
  clock: Clock;
  logger: Logger;
  /** Keep usage and audit until receipted; resend one without a receipt `timeoutMs` after its PUBACK, doubling per resend. */
  receipts?: { timeoutMs: number } | null;
}

type Envelope = { id: string; device: string; fleet: string };

export class Outbox {
  private readonly counts = new Map<OutboxChannel, number>();
  private readonly insert;
  private readonly dropState;
  private readonly dropHealth;
  private readonly readAfter;
  private readonly removeIds;
  private readonly removeUnreceipted;
  private readonly awaitReceipt;
  private readonly removeReceipted;
  private readonly takeDueRows;
  private readonly nextDue;
  private readonly countAwaiting;
  private readonly anyUpTo;
  private readonly enqueueTx;
  private overBound = false;

  constructor(
    private readonly db: Db,
    private readonly opts: OutboxOptions,
  ) {
    for (const c of OUTBOX_CHANNELS) this.counts.set(c, 0);
    const rows = db.prepare("SELECT channel, count(*) FROM telemetry_outbox GROUP BY channel").raw().all() as [OutboxChannel, number][];
    for (const [channel, n] of rows) this.counts.set(channel, n);
    this.insert = db.prepare("INSERT INTO telemetry_outbox (message_id, channel, topic, payload, retain, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    this.dropState = db.prepare("DELETE FROM telemetry_outbox WHERE channel = 'state'");
    this.dropHealth = db.prepare("DELETE FROM telemetry_outbox WHERE id IN (SELECT id FROM telemetry_outbox WHERE channel = 'health' ORDER BY id LIMIT ?)");
    this.readAfter = db.prepare("SELECT id, channel, topic, payload, retain FROM telemetry_outbox WHERE id > ? ORDER BY id LIMIT ?").raw();
    // One statement for a whole batch of PUBACKs: one commit, one fsync. RETURNING tells which
    // rows were still there (a health row may have been dropped while in flight).
    this.removeIds = db.prepare("DELETE FROM telemetry_outbox WHERE id IN (SELECT value FROM json_each(?)) RETURNING channel").pluck();
    this.removeUnreceipted = db.prepare(`DELETE FROM telemetry_outbox WHERE id IN (SELECT value FROM json_each(?)) AND channel NOT IN ${RECEIPTED_SQL} RETURNING channel`).pluck();
    // After a PUBACK: wait for the receipt until `now + min(cap, timeout * 2^sends)`.
    this.awaitReceipt = db.prepare(
      `UPDATE telemetry_outbox SET sends = sends + 1, resend_at = @now + min(@cap, @timeout * (1 << min(sends, 20)))
       WHERE id IN (SELECT value FROM json_each(@ids)) AND channel IN ${RECEIPTED_SQL}`,
    );
    this.removeReceipted = db.prepare(`DELETE FROM telemetry_outbox WHERE message_id IN (SELECT value FROM json_each(?)) AND channel IN ${RECEIPTED_SQL} RETURNING channel`).pluck();
    // Taken for a resend: waiting for a PUBACK again (resend_at NULL) until it comes.
    this.takeDueRows = db
      .prepare(
        `UPDATE telemetry_outbox SET resend_at = NULL WHERE id IN (SELECT id FROM telemetry_outbox WHERE resend_at <= ? AND id <= ? ORDER BY id LIMIT ?)
         RETURNING id, channel, topic, payload, retain`,
      )
      .raw();
    this.nextDue = db.prepare("SELECT min(resend_at) FROM telemetry_outbox WHERE resend_at IS NOT NULL AND id <= ?").pluck();
    this.countAwaiting = db.prepare("SELECT count(*) FROM telemetry_outbox WHERE resend_at IS NOT NULL").pluck();
    this.anyUpTo = db.prepare("SELECT 1 FROM telemetry_outbox WHERE id <= ? LIMIT 1").pluck();
    this.enqueueTx = db.transaction((items: { channel: OutboxChannel; payload: Envelope; retain: boolean }[]) => {
      const delta = new Map<OutboxChannel, number>();
      const bump = (c: OutboxChannel, n: number) => delta.set(c, (delta.get(c) ?? 0) + n);
      let last = 0;
      for (const { channel, payload, retain } of items) {
        // A newer state describes the box better than any older one still waiting.
        if (channel === "state") bump("state", -this.dropState.run().changes);
        const topic = deviceTopic(payload.fleet, payload.device, channel);
        last = Number(this.insert.run(payload.id, channel, topic, JSON.stringify(payload), retain ? 1 : 0, this.opts.clock.now()).lastInsertRowid);
        bump(channel, 1);
      }
      const excess = this.total() + sum(delta) - this.opts.maxMessages;
      if (excess > 0) bump("health", -this.dropHealth.run(excess).changes);
      return { last, delta };
    });
  }

  /**
   * Validates `payload` against its channel's schema and commits it; durable when this returns.
   * Returns the row id (the drain order). Throws HearthError("internal") on a payload that does
   * not fit its schema: producers build them, so that is a bug, and nothing is written.
   */
  enqueue(channel: OutboxChannel, payload: unknown, opts: { retain?: boolean } = {}): number {
    return this.enqueueMany([{ channel, payload, retain: opts.retain }]);
  }

  /** Several messages in one transaction (one fsync); returns the last row id. */
  enqueueMany(items: { channel: OutboxChannel; payload: unknown; retain?: boolean }[]): number {
    const checked = items.map(({ channel, payload, retain }) => {
      if (!(OUTBOX_CHANNELS as readonly string[]).includes(channel)) throw new RangeError(`not an outgoing channel: ${channel}`);
      return { channel, payload: validate(CHANNEL_SCHEMAS[channel], payload, "internal") as Envelope, retain: retain ?? false };
    });
    if (checked.length === 0) return 0;
    const { last, delta } = this.enqueueTx.immediate(checked);
    this.apply(delta);
    this.checkBound();
    return last;
  }

  /** Whether usage and audit wait for the collector's receipt after their PUBACK. */
  get keepsForReceipts(): boolean {
    return Boolean(this.opts.receipts);
  }

  /** Rows after `afterId`, in drain order (those waiting for a receipt included). */
  after(afterId: number, limit: number): OutboxRow[] {
    return toRows(this.readAfter.all(afterId, limit) as RawRow[]);
  }

  /**
   * Rows whose PUBACK came, all in one commit: removed, or with receipts on, usage and audit kept
   * until a receipt, to go again at their resend time.
   */
  acknowledged(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const json = JSON.stringify(ids);
    const receipts = this.opts.receipts;
    if (!receipts) return this.removed(this.removeIds.all(json) as OutboxChannel[]);
    const removed = this.db.transaction(() => {
      this.awaitReceipt.run({ ids: json, now: this.opts.clock.now(), timeout: receipts.timeoutMs, cap: MAX_RESEND_MS });
      return this.removeUnreceipted.all(json) as OutboxChannel[];
    })();
    this.removed(removed);
  }

  /** Removes the usage and audit messages a receipt names (by message id); returns how many were still here. */
  receipted(messageIds: readonly string[]): number {
    if (messageIds.length === 0) return 0;
    const removed = this.removeReceipted.all(JSON.stringify(messageIds)) as OutboxChannel[];
    this.removed(removed);
    return removed.length;
  }

  /** Up to `limit` rows with id <= `upToId` whose resend time has come, marked as waiting for a PUBACK again. */
  takeDue(upToId: number, limit: number): OutboxRow[] {
    return toRows(this.takeDueRows.all(this.opts.clock.now(), upToId, limit) as RawRow[]).sort((a, b) => a.id - b.id);
  }

  /** Milliseconds until the earliest resend among rows with id <= `upToId` (0: due now); null when none waits. */
  nextResendInMs(upToId: number): number | null {
    const at = this.nextDue.get(upToId) as number | null;
    return at === null ? null : Math.max(0, at - this.opts.clock.now());
  }

  /** True while any row with id <= `id` is still waiting. */
  hasUpTo(id: number): boolean {
    return this.anyUpTo.get(id) !== undefined;
  }

  /** The newest row id, 0 when empty. */
  lastId(): number {
    return (this.db.prepare("SELECT coalesce(max(id), 0) FROM telemetry_outbox").pluck().get() as number) ?? 0;
  }

  depth(): OutboxDepth {
    return { total: this.total(), byChannel: Object.fromEntries(this.counts) as Record<OutboxChannel, number> };
  }

  /** Messages the broker acknowledged that wait for the collector's receipt (counted in depth() too). */
  awaitingReceipt(): number {
    return this.countAwaiting.get() as number;
  }

  private removed(channels: readonly OutboxChannel[]): void {
    const delta = new Map<OutboxChannel, number>();
    for (const c of channels) delta.set(c, (delta.get(c) ?? 0) - 1);
    this.apply(delta);
    this.checkBound();
  }

  private total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  private apply(delta: Map<OutboxChannel, number>): void {
    for (const [c, n] of delta) this.counts.set(c, (this.counts.get(c) ?? 0) + n);
  }

  /** Logs once each time the outbox goes over its bound with nothing left that may be dropped. */
  private checkBound(): void {
    const total = this.total();
    const over = total > this.opts.maxMessages;
    if (over && !this.overBound) {
      this.opts.logger.warn("telemetry outbox over its bound: only messages that are never dropped remain (usage, audit, acks)", {
        depth: total,
        bound: this.opts.maxMessages,
        // The usual cause with receipts on: no `hearth fleet collect` receipts them (telemetry.receipts off then).
        ...(this.opts.receipts ? { awaiting_receipt: this.awaitingReceipt() } : {}),
      });
    }
    this.overBound = over;
  }
}

type RawRow = [number, OutboxChannel, string, string, number];
const toRows = (raw: RawRow[]): OutboxRow[] => raw.map(([id, channel, topic, payload, retain]) => ({ id, channel, topic, payload, retain: retain === 1 }));

function sum(delta: Map<unknown, number>): number {
  let n = 0;
  for (const v of delta.values()) n += v;
  return n;
}
