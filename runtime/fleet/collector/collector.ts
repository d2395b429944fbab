/**
 * The fleet collector: an MQTT 5 subscriber in a shared subscription (collectors split the load),
 * with a persistent session (clean start off, a session expiry, a stable client id), so messages
 * published while it is down wait at the broker. Each message is validated, stored in a group
 * commit, and acknowledged only after its transaction committed: a crash at any point loses
 * nothing, and what is redelivered is stored once (keys are (device, message id)).
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { readFileSync } from "node:fs";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { HearthError } from "../../errors.ts";
import { TOPIC_ROOT, collectorSubscription } from "../../telemetry/topics.ts";
import { deliverWithDeferredAcks, type IncomingMessage } from "./deferred-ack.ts";
import { GroupCommit } from "./group-commit.ts";
import { ingest, type Ingested } from "./ingest.ts";
import { planBatch } from "./plan.ts";
import { redactUrl, type FleetStore } from "./store.ts";

export interface CollectorOptions {
  broker: string;
  store: FleetStore;
  /** Stable per collector: the broker keeps its session (and queued messages) under this id. */
  clientId: string;
  /**
   * The shared subscription group (default "collectors"). null subscribes plainly: every message to
   * this collector. Mosquitto (2.0) forgets shared subscriptions when it restarts, though it keeps
   * the sessions, so what devices send before the collector has subscribed again is dropped; a
   * lone collector on Mosquitto should subscribe plainly, which its session keeps.
   */
  share?: string | null;
  /** How long the broker keeps the session of a collector that is away. */
  sessionExpirySeconds?: number;
  username?: string;
  password?: string;
  /** PEM file paths for mqtts:// */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Also subscribe (unshared) to every state topic, for the retained states at start-up: the broker gives no retained messages to a shared subscription. */
  retainedState?: boolean;
  lingerMs?: number;
  maxBatch?: number;
  /** Unacknowledged messages the broker may send at once: the upper bound of a batch. */
  receiveMaximum?: number;
  clock: Clock;
  logger: Logger;
}

export interface CollectorStats {
  received: number;
  /** New rows written (a redelivered message is not counted again). */
  stored: number;
  duplicates: number;
  malformed: number;
  ignored: number;
  batches: number;
  writeErrors: number;
}

export interface RunningCollector {
  readonly stats: Readonly<CollectorStats>;
  readonly clientId: string;
  /** Resolves on the first subscription. */
  readonly subscribed: Promise<void>;
  /** Stops taking messages, stores and acknowledges what it took, disconnects; the session stays for a restart. */
  stop(): Promise<void>;
  /**
   * Leaves for good. A broker keeps routing a shared subscription's share to the persistent session
   * of a collector that is away (until the session expires), so a collector that is not coming
   * back unsubscribes, stores what its session still held (until nothing arrives for `idleMs`),
   * then ends the session.
   */
  retire(opts?: { idleMs?: number }): Promise<void>;
}

export const DEFAULT_SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;

type Pending = { message: IncomingMessage; result: Ingested };

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new HearthError("invalid_request", `--${flag} ${path} cannot be read: ${(err as Error).message}`, { field: flag });
  }
}

export function startCollector(opts: CollectorOptions): RunningCollector {
  const { store, logger, clock } = opts;
  const broker = redactUrl(opts.broker);
  const stats: CollectorStats = { received: 0, stored: 0, duplicates: 0, malformed: 0, ignored: 0, batches: 0, writeErrors: 0 };
  const malformedLog = rateLimited(clock, 20, 60_000);

  const commit = new GroupCommit<Pending>({
    lingerMs: opts.lingerMs ?? 2,
    maxBatch: opts.maxBatch ?? 5000,
    write: async (items) => {
      const accepted = [];
      for (const { result } of items) if (result.ok) accepted.push(result);
      if (accepted.length === 0) return;
      const { inserted } = await store.write(planBatch(accepted));
      stats.batches++;
      stats.stored += inserted;
      stats.duplicates += accepted.length - inserted;
    },
    onWriteError: (err, attempt, items) => {
      stats.writeErrors++;
      logger.error("fleet store write failed; retrying, messages stay unacknowledged", { attempt, messages: items, store: store.location, error: (err as Error).message });
    },
  });

  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: opts.clientId,
    clean: false,
    // Soon back after a broker restart: until it subscribes again, a shared subscription is gone.
    reconnectPeriod: 250,
    // Subscriptions are made on every connect (below), resumed session or not.
    resubscribe: false,
    connectTimeout: 10_000,
    properties: { sessionExpiryInterval: opts.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_SECONDS, receiveMaximum: opts.receiveMaximum ?? 4096 },
    username: opts.username,
    password: opts.password,
    ca: readPem(opts.caFile, "ca"),
    cert: readPem(opts.certFile, "cert"),
    key: readPem(opts.keyFile, "key"),
    manualConnect: true,
  };
  const client: MqttClient = mqtt.connect(opts.broker, options);

  deliverWithDeferredAcks(client, (message) => {
    stats.received++;
    const result = ingest({ topic: message.topic, payload: message.payload, retain: message.retain, receivedMs: clock.now() });
    if (!result.ok) {
      if (result.kind === "malformed") {
        stats.malformed++;
        malformedLog(() => logger.warn("malformed message acknowledged and dropped", { topic: message.topic, reason: result.reason, malformed: stats.malformed }));
      } else stats.ignored++;
    }
    // Refused messages go through the commit too, so acks leave in delivery order.
    commit.add({ message, result }, () => message.ack());
  });

  const topics: Record<string, { qos: 1 }> = {};
  if (opts.share === null) topics[`${TOPIC_ROOT}/+/+/#`] = { qos: 1 };
  else {
    topics[collectorSubscription(opts.share)] = { qos: 1 };
    if (opts.retainedState !== false) topics[`${TOPIC_ROOT}/+/+/state`] = { qos: 1 };
  }
  let resolveSubscribed!: () => void;
  let rejectSubscribed!: (err: Error) => void;
  const subscribed = new Promise<void>((resolve, reject) => ((resolveSubscribed = resolve), (rejectSubscribed = reject)));
  subscribed.catch(() => {});

  client.on("connect", (connack) => {
    logger.info("connected to broker", { broker, clientId: opts.clientId, sessionPresent: connack.sessionPresent });
    // Subscribing again on a resumed session is harmless and covers a broker that lost it.
    client.subscribe(topics, (err, granted) => {
      const refused = granted?.filter((g) => g.qos > 2) ?? [];
      if (err || refused.length > 0) {
        const error = err ?? new Error(`broker refused ${refused.map((g) => g.topic).join(", ")}`);
        logger.error("subscribe failed", { error: error.message });
        rejectSubscribed(error);
      } else resolveSubscribed();
    });
  });
  client.on("error", (err) => logger.warn("broker connection error", { broker, error: err.message }));
  client.on("offline", () => logger.warn("broker unreachable; reconnecting", { broker }));
  client.connect();

  const stopTaking = async () => {
    // No new deliveries (they stay unacknowledged, for the broker to deliver again); what was taken
    // is written and acknowledged while still connected.
    client.handleMessage = (_packet, callback) => callback(new Error("collector stopping"));
    await commit.close();
  };

  return {
    stats,
    clientId: opts.clientId,
    subscribed,
    async stop() {
      await stopTaking();
      await client.endAsync();
    },
    async retire({ idleMs = 2000 } = {}) {
      await subscribed;
      await client.unsubscribeAsync(Object.keys(topics));
      for (let seen = -1; seen !== stats.received || commit.backlog > 0; ) {
        seen = stats.received;
        await Bun.sleep(idleMs);
      }
      await stopTaking();
      await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      logger.info("collector retired: session ended", { clientId: opts.clientId, ...stats });
    },
  };
}

/** At most `max` calls per `windowMs`; the rest are counted, not logged. */
function rateLimited(clock: Clock, max: number, windowMs: number): (log: () => void) => void {
  let windowStart = 0;
  let count = 0;
  return (log) => {
    const now = clock.now();
    if (now - windowStart > windowMs) {
      windowStart = now;
      count = 0;
    }
    if (++count <= max) log();
  };
}
