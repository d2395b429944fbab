/**
 * 4: licensing state that must survive restarts: the trusted-time high-water mark (the wall clock
 * going back must not extend a license) and the clock rollbacks seen.
 */
export const licenseStateMigration = `
  CREATE TABLE trusted_time (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    high_water_ms  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE clock_rollbacks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    wall_ms        INTEGER NOT NULL,  -- what the wall clock said
    high_water_ms  INTEGER NOT NULL   -- the trusted time it was behind
  ) STRICT;
`;
