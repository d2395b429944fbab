/**
 * 6: fleet commands: the nonces already seen (a replayed command is refused) and the settings
 * fleet commands changed (config.set), applied over the config file at start.
 */
export const fleetCommandsMigration = `
  CREATE TABLE command_nonces (
    nonce       TEXT PRIMARY KEY,
    command_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key_id      TEXT NOT NULL,     -- the fleet key that signed it
    expires_at  INTEGER NOT NULL,  -- a nonce may be forgotten once its command has expired
    seen_at     INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX command_nonces_expiry ON command_nonces(expires_at);

  CREATE TABLE config_overrides (
    path        TEXT PRIMARY KEY,  -- dotted config path, from the allow-list
    value       TEXT NOT NULL,     -- JSON
    command_id  TEXT NOT NULL,
    set_at      INTEGER NOT NULL
  ) STRICT;
`;
