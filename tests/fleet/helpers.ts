/** Collectors for tests: a real collector on a real broker, with a SQLite store in a temp dir by default. */
import { join } from "node:path";
import { startCollector, type CollectorOptions, type RunningCollector } from "../../runtime/fleet/collector/collector.ts";
import { openSqliteStore } from "../../runtime/fleet/collector/sqlite-store.ts";
import type { FleetStore } from "../../runtime/fleet/collector/store.ts";
import { systemClock } from "../../runtime/clock.ts";
import { silentLogger, type Logger } from "../../runtime/log.ts";
import { msgId } from "./fixtures.ts";
import { BROKER_KIND } from "../helpers/mosquitto.ts";
import { tempDirs } from "../helpers/temp-dirs.ts";

/**
 * Whether the test broker has MQTT 5 shared subscriptions: Mosquitto does; the aedes fallback
 * (3.1.1) does not, so there collectors subscribe plainly.
 */
export const sharedSubscriptions = BROKER_KIND === "mosquitto";

const temp = tempDirs("hearth-fleet-");
/** A temp dir, until removeTempDirs() (each test file calls it in its afterAll). */
export const tempDir = (prefix?: string): string => temp.make(prefix);
export const removeTempDirs = temp.removeAll;

export interface TestCollector extends RunningCollector {
  store: FleetStore;
  /**
   * Ends the collector's session (so the broker queues nothing more for it) and closes its store;
   * `keepSession` stops it as a restart would.
   */
  close(o?: { keepSession?: boolean }): Promise<void>;
}

export async function collector(broker: string, o: Partial<CollectorOptions> & { store?: FleetStore; logger?: Logger } = {}): Promise<TestCollector> {
  const store = o.store ?? openSqliteStore(join(tempDir(), "fleet.db"), { create: true });
  // Each test its own share group: collectors of earlier tests keep their sessions, and a broker
  // routes a share to a session that is away.
  const share = sharedSubscriptions ? `t${msgId().slice(0, 10)}` : null;
  const running = startCollector({ clientId: `collector-${msgId().slice(0, 10)}`, share, clock: systemClock, logger: silentLogger, ...o, broker, store });
  await running.subscribed;
  return Object.assign(Object.create(null), {
    get stats() {
      return running.stats;
    },
    clientId: running.clientId,
    subscribed: running.subscribed,
    get protocolVersion() {
      return running.protocolVersion;
    },
    stop: () => running.stop(),
    retire: (r?: { idleMs?: number }) => running.retire(r),
    store,
    async close(c: { keepSession?: boolean } = {}) {
      if (c.keepSession) await running.stop();
      else await running.retire({ idleMs: 100 });
      await store.close();
    },
  }) as TestCollector;
}

export const rows = async (store: FleetStore, sql: string, params: unknown[] = []) => await store.all<Record<string, unknown>>(sql, params);
export const countOf = async (store: FleetStore, table: string) => Number((await rows(store, `SELECT COUNT(*) AS n FROM ${table}`))[0]!.n);
