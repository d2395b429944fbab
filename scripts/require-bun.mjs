#!/usr/bin/env node
// npm would build native addons against Node's headers, which Bun cannot load; installs go through Bun.
if (!(process.env.npm_config_user_agent ?? "").startsWith("bun/")) {
  console.error("hearth: install with `npm start` or `npm test` (they install the pinned Bun and the locked dependencies).");
  process.exit(1);
}
