/**
 * Moves the outbox to the broker: rows in id order, many publishes in flight at once (up to the
 * session's window), and the rows whose PUBACK arrived committed together in one commit per turn
 * of the event loop, not one fsync per message. After a reconnect it starts again from the oldest
 * row still waiting, so everything not acknowledged (or, with receipts on, not receipted) is sent
 * again, in order (the collector dedupes by message id). With receipts on, a message whose
 * receipt is late goes again at its resend time, ahead of new rows.
 */
import type { Logger } from "../log.ts";
import type { BrokerSession } from "./broker-link.ts";
import type { Outbox, OutboxRow } from "./outbox.ts";
import { systemTimers, type TimerHandle, type Timers } from "./timers.ts";

const READ_BATCH = 512;

export class OutboxDrain {
  private session: BrokerSession | null = null;
  /** Bumped on every attach/detach, so callbacks of a dead connection are ignored. */
  private generation = 0;
  /** Rows read from the outbox; those from `next` on are not yet published on this connection. */
  private buffer: OutboxRow[] = [];
  private next = 0;
  /** The highest row id read for this connection. */
  private readUpTo = 0;
  private inFlight = 0;
  private acked: number[] = [];
  private commitScheduled = false;
  private refused = 0;
  private waiters: { upTo: number; resolve: (done: boolean) => void }[] = [];
  /** Rows due for a resend (receipts), sent before the next new row; `retryNext` is the next one. */
  private retry: OutboxRow[] = [];
  private retryNext = 0;
  private resendTimer: { handle: TimerHandle; at: number } | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly timers: Timers = systemTimers,
  ) {}

  attach(session: BrokerSession): void {
    // Acks of the previous connection first, or their rows would be sent again.
    this.commit();
    this.generation++;
    this.session = session;
    this.buffer = [];
    this.next = 0;
    this.readUpTo = 0;
    this.inFlight = 0;
    this.pump();
  }

  detach(): void {
    this.generation++;
    this.session = null;
    this.buffer = [];
    this.next = 0;
    this.inFlight = 0;
    // Rows taken for a resend and not yet published are read again from the start on the next connection.
    this.retry = [];
    this.retryNext = 0;
    this.clearResendTimer();
    this.commit();
  }

  /** A receipt named these message ids: they leave the outbox. */
  receipted(messageIds: readonly string[]): number {
    const removed = this.outbox.receipted(messageIds);
    if (removed > 0) this.resolveWaiters();
    return removed;
  }

  /** Something was enqueued: send it if there is room. */
  kick(): void {
    this.pump();
  }

  status(): { inFlight: number; refused: number } {
    return { inFlight: this.inFlight, refused: this.refused };
  }

  /** Resolves true once every row up to `upTo` has left the outbox (acknowledged, or receipted), false after `timeoutMs`. */
  whenDrained(upTo: number, timeoutMs: number): Promise<boolean> {
    this.commit();
    if (!this.outbox.hasUpTo(upTo)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        upTo,
        resolve: (done: boolean) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(done);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private pump(): void {
    const session = this.session;
    if (!session) return;
    const generation = this.generation;
    while (this.inFlight < session.window) {
      let row = this.retry[this.retryNext++];
      if (!row) {
        this.retry = [];
        this.retryNext = 0;
        if (this.next === this.buffer.length) {
          this.buffer = this.outbox.after(this.readUpTo, READ_BATCH);
          this.next = 0;
          if (this.buffer.length === 0) return;
          this.readUpTo = this.buffer[this.buffer.length - 1]!.id;
        }
        row = this.buffer[this.next++]!;
      }
      this.inFlight++;
      session.publish(row.topic, row.payload, row.retain, (err) => this.settled(generation, row, err));
    }
  }

  private settled(generation: number, row: OutboxRow, err: Error | null): void {
    if (generation !== this.generation) {
      // A PUBACK that made it before the connection went still counts.
      if (!err) this.ack(row.id);
      return;
    }
    this.inFlight--;
    if (err) {
      // The broker refused it (an MQTT 5 reason code, e.g. not authorized or quota exceeded): it
      // stays in the outbox and is tried again on the next connection, never dropped here.
      if (this.session) {
        this.refused++;
        this.logger.warn("telemetry: the broker refused a message; it stays queued", { channel: row.channel, error: err.message });
      }
    } else this.ack(row.id);
    this.pump();
  }

  private ack(id: number): void {
    this.acked.push(id);
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    // PUBACKs arrive in bursts: those handled in this turn of the event loop share one commit.
    setImmediate(() => this.commit());
  }

  private commit(): void {
    this.commitScheduled = false;
    if (this.acked.length === 0) return;
    const ids = this.acked;
    this.acked = [];
    try {
      this.outbox.acknowledged(ids);
    } catch (err) {
      // Left in the outbox they are only sent again (a duplicate the collector ignores).
      this.logger.error("telemetry: could not record acknowledged messages in the outbox", { error: (err as Error).message });
      return;
    }
    this.resolveWaiters();
    this.scheduleResend();
  }

  private resolveWaiters(): void {
    for (const w of [...this.waiters]) if (!this.outbox.hasUpTo(w.upTo)) w.resolve(true);
  }

  /** Arms one timer for the earliest resend time, while connected. */
  private scheduleResend(): void {
    if (!this.session || !this.outbox.keepsForReceipts) return;
    // Rows the cursor has not reached yet go out with it; only those behind it need the timer.
    const inMs = this.outbox.nextResendInMs(this.readUpTo);
    if (inMs === null) return;
    const at = performance.now() + inMs;
    if (this.resendTimer && this.resendTimer.at <= at) return;
    this.clearResendTimer();
    const handle = this.timers.setTimeout(() => {
      this.resendTimer = null;
      this.resendDue();
    }, inMs);
    this.resendTimer = { handle, at };
  }

  private resendDue(): void {
    if (!this.session) return;
    // Only rows this connection has read already: later ones go out in order anyway.
    const due = this.outbox.takeDue(this.readUpTo, READ_BATCH);
    if (due.length > 0) {
      this.retry = [...this.retry.slice(this.retryNext), ...due];
      this.retryNext = 0;
      this.pump();
    }
    this.scheduleResend();
  }

  private clearResendTimer(): void {
    if (this.resendTimer) this.timers.clearTimeout(this.resendTimer.handle);
    this.resendTimer = null;
  }
}
