/**
 * 9: the OTA update agent (ota/agent). `ota_state` holds the update state machine's one record
 * (JSON, schema in ota/agent/state.ts), rewritten in a transaction at every step, so a SIGKILL
 * leaves the last step taken. `ota_trust` holds the newest root document the box trusts and the
 * highest channel index version it accepted (rollback protection).
 */
export const otaStateMigration = `
  CREATE TABLE ota_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    state       TEXT NOT NULL,
    record      TEXT NOT NULL,    -- JSON: OtaRecord
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE ota_trust (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    root           TEXT NOT NULL,     -- the trusted root document, as fetched (signed envelope)
    root_version   INTEGER NOT NULL,
    index_version  INTEGER NOT NULL,  -- highest channel index version accepted; 0 for none
    updated_at     INTEGER NOT NULL
  ) STRICT;
`;
