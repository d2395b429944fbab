#!/usr/bin/env node
// Installs the pinned Bun from the npm registry and the locked dependencies, so a fresh clone with
// only Node and npm can run `npm start` and `npm test`. Plain Node on purpose: Bun is not there yet.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const bunVersion = pkg.devDependencies.bun;
const bun = join(root, "node_modules", ".bin", "bun");
const marker = join(root, "node_modules", ".hearth-installed");
const lock = join(root, "bun.lock");

const upToDate =
  existsSync(bun) && existsSync(marker) && readFileSync(marker, "utf8") === bunVersion && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
if (!upToDate) {
  const installer = existsSync(bun) ? [bun, []] : ["npx", ["--yes", `bun@${bunVersion}`]];
  console.error(`hearth: installing dependencies with Bun ${bunVersion} (frozen lockfile)`);
  execFileSync(installer[0], [...installer[1], "install", "--frozen-lockfile"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, HEARTH_BOOTSTRAP: "1" },
  });
  writeFileSync(marker, bunVersion);
}
