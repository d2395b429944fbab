/**
 * Audit: every signed ledger checkpoint, published once (the cursor is the last checkpoint row
 * sent, moved in the enqueue's transaction). The collector verifies each against the device's
 * public key and the chain of checkpoints before it.
 */
import { Value } from "@sinclair/typebox/value";
import type { Db } from "../store/db.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { SignedCheckpointSchema, type SignedCheckpoint } from "../ledger/checkpoints.ts";
import { Cursors } from "./cursor.ts";
import { messageId } from "./ids.ts";
import type { AuditMessage } from "./messages.ts";
import type { Outbox } from "./outbox.ts";

export const AUDIT_CURSOR = "audit.checkpoint_id";
/** Checkpoints per transaction: a box that kept many while on Community catches up in steps. */
const BATCH = 256;

export class AuditFeed {
  private readonly produceTx;

  constructor(opts: { db: Db; outbox: Outbox; clock: Clock; logger: Logger; device: string; fleet: string }) {
    const { db } = opts;
    const cursors = new Cursors(db);
    const newer = db.prepare("SELECT id, payload, signature FROM ledger_checkpoints WHERE id > ? ORDER BY id LIMIT ?").raw();
    this.produceTx = db.transaction((licenseId: string | null): { read: number; sent: number } => {
      const rows = newer.all(cursors.get(AUDIT_CURSOR), BATCH) as [number, string, string][];
      const items: { channel: "audit"; payload: AuditMessage }[] = [];
      for (const [id, payload, signature] of rows) {
        const checkpoint = parseCheckpoint(payload, signature);
        if (!checkpoint) {
          opts.logger.warn("telemetry: a stored ledger checkpoint is malformed; not published", { checkpoint_row: id });
          continue;
        }
        items.push({
          channel: "audit",
          payload: {
            v: 1,
            id: messageId("a", opts.clock),
            device: opts.device,
            fleet: opts.fleet,
            ts: new Date(opts.clock.now()).toISOString(),
            checkpoint,
            ...(licenseId ? { licenseId } : {}),
          },
        });
      }
      opts.outbox.enqueueMany(items);
      if (rows.length > 0) cursors.set(AUDIT_CURSOR, rows[rows.length - 1]![0]);
      return { read: rows.length, sent: items.length };
    });
  }

  /** Enqueues every checkpoint not yet sent; returns how many were enqueued. */
  produce(licenseId: string | null): number {
    let total = 0;
    for (;;) {
      const { read, sent } = this.produceTx.immediate(licenseId);
      total += sent;
      if (read < BATCH) return total;
    }
  }
}

function parseCheckpoint(payload: string, signature: string): SignedCheckpoint | null {
  try {
    const checkpoint = { payload: JSON.parse(payload) as unknown, signature };
    return Value.Check(SignedCheckpointSchema, checkpoint) ? checkpoint : null;
  } catch {
    return null;
  }
}
