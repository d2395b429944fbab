/**
 * The telemetry outbox: every outgoing message is validated and committed here (durable:
 * synchronous=FULL) before anything tries to send it, published QoS 1 in id order, and removed
 * only after the broker's PUBACK. The outbox is bounded: beyond `maxMessages` it gives up state
 * rows superseded by a newer state and then the oldest health samples; usage, audit, OTA events
 * and command acks are never dropped (over the bound with only those left, they are kept and
 * the excess is logged).
 */
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { validate } from "../validation.ts";
import { CHANNEL_SCHEMAS } from "./messages.ts";
import { deviceTopic, type DeviceChannel } from "./topics.ts";

/** What the box sends (`cmd` only arrives). */
export type OutboxChannel = Exclude<DeviceChannel, "cmd">;
export const OUTBOX_CHANNELS: readonly OutboxChannel[] = ["state", "health", "usage", "audit", "ota", "cmd/ack"];

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
}

type Envelope = { id: string; device: string; fleet: string };

export class Outbox {
  private readonly counts = new Map<OutboxChannel, number>();
  private readonly insert;
  private readonly dropState;
  private readonly dropHealth;
  private readonly readAfter;
  private readonly removeIds;
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

  /** Rows after `afterId`, in drain order. */
  after(afterId: number, limit: number): OutboxRow[] {
    return (this.readAfter.all(afterId, limit) as [number, OutboxChannel, string, string, number][]).map(([id, channel, topic, payload, retain]) => ({
      id,
      channel,
      topic,
      payload,
      retain: retain === 1,
    }));
  }

  /** Removes acknowledged rows, all in one commit. */
  remove(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const removed = this.removeIds.all(JSON.stringify(ids)) as OutboxChannel[];
    const delta = new Map<OutboxChannel, number>();
    for (const c of removed) delta.set(c, (delta.get(c) ?? 0) - 1);
    this.apply(delta);
    this.checkBound();
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
      });
    }
    this.overBound = over;
  }
}

function sum(delta: Map<unknown, number>): number {
  let n = 0;
  for (const v of delta.values()) n += v;
  return n;
}
