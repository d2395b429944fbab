/**
 * Telemetry test kit: a box's telemetry over a real SQLite database, a plain MQTT subscriber with
 * a persistent session (what a collector sees), timers the test fires by hand.
 */
import mqtt, { type MqttClient } from "mqtt";
import { loadConfig } from "../../runtime/config/load.ts";
import type { Config } from "../../runtime/config/schema.ts";
import { createLogger, type Logger } from "../../runtime/log.ts";
import { systemClock } from "../../runtime/clock.ts";
import { openDatabase, type Db } from "../../runtime/store/db.ts";
import { Telemetry, type TelemetryDeps } from "../../runtime/telemetry/telemetry.ts";
import type { UsageMessage } from "../../runtime/telemetry/messages.ts";
import type { Tier } from "../../runtime/telemetry/policy.ts";
import type { Timers } from "../../runtime/telemetry/timers.ts";
import { tempDirs } from "../helpers/temp-dirs.ts";

const temp = tempDirs("hearth-telemetry-");
export const tmp = (): string => temp.make();
export const removeTempDirs = temp.removeAll;

export function telemetryConfig(over: Record<string, unknown> = {}): Config["telemetry"] {
  const flags = Object.fromEntries(Object.entries(over).map(([k, v]) => [`telemetry.${k}`, v]));
  return loadConfig({ flags }).telemetry;
}

export interface TestBox {
  telemetry: Telemetry;
  db: Db;
  dataDir: string;
  deviceId: string;
  logs: string[];
  logger: Logger;
}

let boxes = 0;

/** A box's telemetry on a fresh data dir (or `dataDir`); not started. */
export function testBox(opts: {
  config?: Record<string, unknown>;
  tier?: Tier;
  licenseId?: string | null;
  dataDir?: string;
  deviceId?: string;
  deps?: Partial<TelemetryDeps>;
} = {}): TestBox {
  const dataDir = opts.dataDir ?? tmp();
  const db = openDatabase(dataDir);
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", write: (line) => logs.push(line) });
  const deviceId = opts.deviceId ?? `hd-test${process.pid}x${++boxes}x${Math.random().toString(36).slice(2, 8)}`;
  const telemetry = new Telemetry({
    config: telemetryConfig({ enabled: true, ...opts.config }),
    db,
    deviceId,
    clock: systemClock,
    logger,
    license: () => ({ tier: opts.tier ?? "smb", licenseId: opts.licenseId === undefined ? "lic-test-1" : opts.licenseId }),
    version: "0.0.0-test",
    ...opts.deps,
  });
  return { telemetry, db, dataDir, deviceId, logs, logger };
}

/** A valid usage message (seq-numbered), for bursts that do not need a ledger behind them. */
export function usageMessage(box: Pick<TestBox, "telemetry">, seq: number): UsageMessage {
  return {
    ...box.telemetry.envelope("u"),
    id: `u-${seq}`,
    seq,
    fromLedgerSeq: seq - 1,
    toLedgerSeq: seq,
    totals: { requests: 1, promptTokens: 3, completionTokens: 5 },
    byModel: { m: { requests: 1, promptTokens: 3, completionTokens: 5 } },
    tier: "smb",
  };
}

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

export interface Subscriber {
  client: MqttClient;
  messages: Received[];
  /** Parsed payloads on one channel (`usage`, `state`, …). */
  on(channel: string): any[];
  end(): Promise<void>;
}

/** A plain subscriber to `hearth/v1/#`: persistent session, QoS 1, reconnecting on its own. */
export async function subscribe(url: string, opts: { protocolVersion?: 4 | 5; topic?: string; clientId?: string } = {}): Promise<Subscriber> {
  const v5 = (opts.protocolVersion ?? 5) === 5;
  const client = await mqtt.connectAsync(url, {
    clientId: opts.clientId ?? `sub-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    protocolVersion: opts.protocolVersion ?? 5,
    clean: false,
    ...(v5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    reconnectPeriod: 200,
  });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, text: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(opts.topic ?? "hearth/v1/#", { qos: 1 });
  return {
    client,
    messages,
    on: (channel) =>
      messages
        .filter((m) => m.topic.endsWith(`/${channel}`) && !(channel === "cmd" && m.topic.endsWith("/cmd/ack")))
        .flatMap((m) => {
          try {
            return [JSON.parse(m.text)];
          } catch {
            return [];
          }
        }),
    end: async () => {
      await client.endAsync(true);
    },
  };
}

/** Waits until `check` is true, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Timers that fire only when the test says so. */
export function manualTimers(): Timers & { pending: { ms: number; fn: () => void; id: number }[]; fireNext(): number } {
  let next = 0;
  const pending: { ms: number; fn: () => void; id: number }[] = [];
  return {
    pending,
    setTimeout(fn, ms) {
      const id = ++next;
      pending.push({ ms, fn, id });
      return id;
    },
    clearTimeout(handle) {
      const i = pending.findIndex((p) => p.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
    /** Runs the earliest-scheduled timer; returns its delay. */
    fireNext() {
      const t = pending.shift();
      if (!t) throw new Error("no timer pending");
      t.fn();
      return t.ms;
    },
  };
}
