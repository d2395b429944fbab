import { afterAll, beforeAll } from "bun:test";
import { openPostgresStore } from "../../runtime/fleet/collector/postgres-store.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { storeSuite } from "./store-suite.ts";

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const urls = new Map<object, string>();
storeSuite(
  "PostgreSQL",
  async () => {
    const url = await pg.createDatabase();
    const store = await openPostgresStore(url, { create: true });
    urls.set(store, url);
    return store;
  },
  // A second collector's store: its own connection pool on the same database.
  async (first) => await openPostgresStore(urls.get(first)!, { create: true }),
);
