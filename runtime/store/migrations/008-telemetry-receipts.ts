/**
 * 8: delivery receipts. With `telemetry.receipts` on, a usage or audit message stays in the
 * outbox after the broker's PUBACK until the collector's receipt names it: `resend_at` is set at
 * the PUBACK (NULL: still waiting for one) and is when it goes again unless a receipt came;
 * `sends` counts the PUBACKs, for the back-off between resends.
 */
export const telemetryReceiptsMigration = `
  ALTER TABLE telemetry_outbox ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE telemetry_outbox ADD COLUMN resend_at INTEGER;
  CREATE INDEX telemetry_outbox_resend ON telemetry_outbox(resend_at) WHERE resend_at IS NOT NULL;
`;
