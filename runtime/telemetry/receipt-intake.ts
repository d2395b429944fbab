/**
 * Receipts from the collector, as the box takes them: a receipt on this box's /receipt topic
 * names usage and audit messages the collector has stored, and those leave the outbox. Nothing a
 * payload holds can throw past this module; a receipt naming another box is ignored.
 *
 * Anyone the broker lets publish to this topic can forge a receipt. The worst it does is make the
 * box drop a usage or audit message from its outbox before the collector stored it: the records
 * stay in the box's ledger (`hearth license audit` exports them), and the fleet audit shows the
 * hole as a usage sequence gap. Broker ACLs (only collectors publish to .../receipt) are the control.
 */
import type { Logger } from "../log.ts";
import { validate } from "../validation.ts";
import { ReceiptMessageSchema } from "./messages.ts";
import { deviceTopic } from "./topics.ts";

export interface ReceiptStats {
  /** Receipts taken (naming this box, well formed). */
  received: number;
  /** Outbox messages they removed. */
  removed: number;
  /** Payloads refused: not a receipt, or one for another box. */
  refused: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export class ReceiptIntake {
  readonly topic: string;
  readonly stats: ReceiptStats = { received: 0, removed: 0, refused: 0 };

  constructor(
    private readonly opts: {
      fleet: string;
      device: string;
      /** Removes the named messages from the outbox; returns how many were there. */
      receipted: (messageIds: readonly string[]) => number;
      logger: Logger;
    },
  ) {
    this.topic = deviceTopic(opts.fleet, opts.device, "receipt");
  }

  /** Never throws. */
  receive(payload: Uint8Array): void {
    try {
      const receipt = validate(ReceiptMessageSchema, JSON.parse(decoder.decode(payload)));
      if (receipt.device !== this.opts.device || receipt.fleet !== this.opts.fleet) throw new Error(`names device ${receipt.fleet}/${receipt.device}`);
      this.stats.received++;
      this.stats.removed += this.opts.receipted(receipt.ids);
    } catch (err) {
      // Counted, and logged at powers of two: a flood of garbage cannot flood the log.
      const refused = ++this.stats.refused;
      if ((refused & (refused - 1)) === 0) this.opts.logger.warn("telemetry: refused a receipt", { refused, error: (err as Error).message.slice(0, 200) });
    }
  }
}
