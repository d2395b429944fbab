import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import { storeSuite } from "./store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-fleet-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
storeSuite("SQLite", async () => openSqliteStore(join(dir, `fleet-${++n}.db`), { create: true }));
