/**
 * Moves the outbox to the broker: rows in id order, many publishes in flight at once (up to the
 * session's window), and the rows whose PUBACK arrived removed together in one commit per turn
 * of the event loop, not one fsync per message. After a reconnect it starts again from the oldest
 * row still waiting, so everything not acknowledged is sent again, in order (the collector
 * dedupes by message id).
 */
import type { Logger } from "../log.ts";
import type { BrokerSession } from "./broker-link.ts";
import type { Outbox, OutboxRow } from "./outbox.ts";

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

  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
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
    this.commit();
  }

  /** Something was enqueued: send it if there is room. */
  kick(): void {
    this.pump();
  }

  status(): { inFlight: number; refused: number } {
    return { inFlight: this.inFlight, refused: this.refused };
  }

  /** Resolves true once every row up to `upTo` has been acknowledged, false after `timeoutMs`. */
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
      if (this.next === this.buffer.length) {
        this.buffer = this.outbox.after(this.readUpTo, READ_BATCH);
        this.next = 0;
        if (this.buffer.length === 0) return;
        this.readUpTo = this.buffer[this.buffer.length - 1]!.id;
      }
      const row = this.buffer[this.next++]!;
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
      this.outbox.remove(ids);
    } catch (err) {
      // Left in the outbox they are only sent again (a duplicate the collector ignores).
      this.logger.error("telemetry: could not remove acknowledged messages from the outbox", { error: (err as Error).message });
      return;
    }
    for (const w of [...this.waiters]) if (!this.outbox.hasUpTo(w.upTo)) w.resolve(true);
  }
}
