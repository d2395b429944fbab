/**
 * 7: the local admin: its password, the one-time pairing code, browser sessions and admin tokens
 * (every secret stored as a hash only), and api_keys.erased_at for factory reset. A key's row
 * cannot be deleted (the usage ledger references it and is append-only), so a reset revokes it,
 * overwrites its hash and prefix and hides it from the admin page. Also an index for usage per day.
 */
export const adminMigration = `
  CREATE TABLE admin_credentials (
    id             INTEGER PRIMARY KEY CHECK (id = 1),  -- one admin per box
    password_hash  TEXT NOT NULL,                        -- argon2id (Bun.password), PHC string
    set_at         INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE admin_pairing (
    id          INTEGER PRIMARY KEY CHECK (id = 1),  -- at most one code is valid; a new one replaces it
    code_hash   TEXT NOT NULL,                       -- argon2id of the normalized code
    failures    INTEGER NOT NULL DEFAULT 0,          -- wrong guesses; the code is burned at the limit
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE admin_sessions (
    hash        BLOB PRIMARY KEY,   -- SHA-256 of the cookie's secret
    created_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE admin_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    hash          BLOB NOT NULL UNIQUE,  -- SHA-256 of the token (32 random bytes: no dictionary to attack)
    prefix        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
  ) STRICT;

  ALTER TABLE api_keys ADD COLUMN erased_at INTEGER;

  -- The admin page's usage per day reads a period of the ledger (an index changes no row).
  CREATE INDEX usage_ledger_created ON usage_ledger(created_at);
`;
