/**
 * 5: the telemetry outbox. Every outgoing MQTT message is written here first, with its unique
 * message id, and removed only after the broker's PUBACK; drained in id order after a reconnect.
 */
export const telemetryOutboxMigration = `
  CREATE TABLE telemetry_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- drain order
    message_id  TEXT NOT NULL UNIQUE,               -- the payload's id; the collector dedupes on it
    channel     TEXT NOT NULL,                      -- state, health, usage, audit, ota, cmd/ack
    topic       TEXT NOT NULL,
    payload     TEXT NOT NULL,                      -- JSON, validated before it was queued
    retain      INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),
    created_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX telemetry_outbox_channel ON telemetry_outbox(channel, id);

  -- Where the usage feed stands: the last ledger seq reported and the last usage message seq.
  CREATE TABLE telemetry_cursor (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
  ) STRICT;
`;
