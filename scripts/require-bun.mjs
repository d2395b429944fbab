#!/usr/bin/env node
// npm would build native addons against Node's headers, which Bun cannot load; installs go through
// Bun, started either directly or by scripts/bootstrap.mjs (which runs under npm and says so).
const agent = process.env.npm_config_user_agent ?? "";
if (!agent.startsWith("bun/") && process.env.HEARTH_BOOTSTRAP !== "1") {
  console.error("hearth: install with `npm start` or `npm test` (they install the pinned Bun and the locked dependencies).");
  process.exit(1);
}
