/**
 * The fleet collector: an MQTT 5 subscriber in a shared subscription (collectors split the load),
 * with a persistent session (clean start off, a session expiry, a stable client id), so messages
 * published while it is down wait at the broker; on a 3.1.1-only broker, a plain subscription on
 * a 3.1.1 persistent session. Each message is validated, stored in a group commit, and
 * acknowledged only after its transaction committed: a crash at any point loses nothing, and what
 * is redelivered is stored once (keys are (device, message id)). After each commit the devices
 * get receipts for their usage and audit messages (receipts.ts).
 */
import mqtt, { type MqttClient } from "mqtt";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { HearthError } from "../../errors.ts";
import { UNSUPPORTED_PROTOCOL } from "../../telemetry/broker-link.ts";
import { COLLECTOR_SHARE, parseDeviceTopic } from "../../telemetry/topics.ts";
import { deliverWithDeferredAcks, type IncomingMessage } from "./deferred-ack.ts";
import { GroupCommit } from "./group-commit.ts";
import { ingest, type Ingested } from "./ingest.ts";
import { planBatch } from "./plan.ts";
import { receiptsFor } from "./receipts.ts";
import { clientOptions, subscriptions, tlsFiles, type ProtocolVersion } from "./session.ts";
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
  /** Unacknowledged messages the broker may send at once: the upper bound of a batch (MQTT 5). */
  receiveMaximum?: number;
  /** Publish delivery receipts to the devices (default on; see receipts.ts). */
  receipts?: boolean;
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
  /** Receipt messages published to devices. */
  receipts: number;
}

export interface RunningCollector {
  readonly stats: Readonly<CollectorStats>;
  readonly clientId: string;
  /** Resolves on the first subscription; rejects when the broker refuses it (or a share is asked of a 3.1.1 broker). */
  readonly subscribed: Promise<void>;
  /** The MQTT version spoken with the broker, once connected. */
  readonly protocolVersion: ProtocolVersion | null;
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

/** The collectors' own receipts come back through the wildcard (a shared subscription cannot ask for No Local): acknowledged, not counted. */
const OWN_RECEIPT: Ingested = { ok: false, kind: "ignored", reason: "a receipt to a device" };

export function startCollector(opts: CollectorOptions): RunningCollector {
  const { store, logger, clock } = opts;
  const broker = redactUrl(opts.broker);
  const stats: CollectorStats = { received: 0, stored: 0, duplicates: 0, malformed: 0, ignored: 0, batches: 0, writeErrors: 0, receipts: 0 };
  const malformedLog = rateLimited(clock, 20, 60_000);
  const receiptErrorLog = rateLimited(clock, 5, 60_000);
  const session = {
    clientId: opts.clientId,
    share: opts.share === undefined ? COLLECTOR_SHARE : opts.share,
    sessionExpirySeconds: opts.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_SECONDS,
    receiveMaximum: opts.receiveMaximum ?? 4096,
    retainedState: opts.retainedState !== false,
    username: opts.username,
    password: opts.password,
  };
  const tls = tlsFiles(opts);

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
      if (opts.receipts !== false) sendReceipts(accepted);
    },
    onWriteError: (err, attempt, items) => {
      stats.writeErrors++;
      logger.error("fleet store write failed; retrying, messages stay unacknowledged", { attempt, messages: items, store: store.location, error: (err as Error).message });
    },
  });

  const sendReceipts = (accepted: Parameters<typeof receiptsFor>[0]) => {
    for (const r of receiptsFor(accepted, clock.now())) {
      stats.receipts++;
      // Not awaited: a receipt that never arrives only makes the device send the message again.
      client.publish(r.topic, r.payload, { qos: 1 }, (err) => {
        if (err) receiptErrorLog(() => logger.warn("a receipt was not published; the device will send its messages again", { topic: r.topic, error: err.message }));
      });
    }
  };

  const onMessage = (message: IncomingMessage) => {
    if (parseDeviceTopic(message.topic)?.channel === "receipt") return commit.add({ message, result: OWN_RECEIPT }, () => message.ack());
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
  };

  let resolveSubscribed!: () => void;
  let rejectSubscribed!: (err: Error) => void;
  const subscribed = new Promise<void>((resolve, reject) => ((resolveSubscribed = resolve), (rejectSubscribed = reject)));
  subscribed.catch(() => {});

  let version: ProtocolVersion = 5;
  let connectedVersion: ProtocolVersion | null = null;
  let topics: string[] = [];
  const open = (v: ProtocolVersion): MqttClient => {
    const c = mqtt.connect(opts.broker, clientOptions(session, v, tls));
    let everConnected = false;
    deliverWithDeferredAcks(c, onMessage);
    c.on("connect", (connack) => {
      everConnected = true;
      connectedVersion = v;
      logger.info("connected to broker", { broker, clientId: opts.clientId, mqtt: v === 5 ? "5" : "3.1.1", sessionPresent: connack.sessionPresent });
      let wanted;
      try {
        wanted = subscriptions(session, v);
      } catch (err) {
        logger.error("cannot collect from this broker", { broker, error: (err as Error).message });
        rejectSubscribed(err as Error);
        c.end(true);
        return;
      }
      topics = Object.keys(wanted);
      // Subscribing again on a resumed session is harmless and covers a broker that lost it.
      c.subscribe(wanted, (err, granted) => {
        const refused = granted?.filter((g) => g.qos > 2) ?? [];
        if (err || refused.length > 0) {
          const why = err ? err.message : `it refused ${refused.map((g) => g.topic).join(", ")}`;
          logger.error("subscribe failed", { error: why });
          rejectSubscribed(new HearthError("forbidden", `the broker did not let the collector subscribe: ${why}`, { cause: err ?? undefined }));
        } else resolveSubscribed();
      });
    });
    c.on("error", (err: Error & { code?: unknown }) => {
      if (!everConnected && v === 5 && typeof err.code === "number" && UNSUPPORTED_PROTOCOL.has(err.code)) {
        // A broker without MQTT 5 (e.g. aedes): the same session in 3.1.1.
        logger.warn("the broker does not speak MQTT 5; using MQTT 3.1.1", { broker });
        c.end(true);
        version = 4;
        client = open(4);
        return;
      }
      logger.warn("broker connection error", { broker, error: err.message });
    });
    c.on("offline", () => logger.warn("broker unreachable; reconnecting", { broker }));
    c.connect();
    return c;
  };
  let client = open(version);

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
    get protocolVersion() {
      return connectedVersion;
    },
    async stop() {
      await stopTaking();
      await client.endAsync();
    },
    async retire({ idleMs = 2000 } = {}) {
      await subscribed;
      await client.unsubscribeAsync(topics);
      for (let seen = -1; seen !== stats.received || commit.backlog > 0; ) {
        seen = stats.received;
        await Bun.sleep(idleMs);
      }
      await stopTaking();
      if (version === 5) await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      else {
        // MQTT 3.1.1 ends a session by connecting once with a clean session.
        await client.endAsync();
        const clean = await mqtt.connectAsync(opts.broker, { ...clientOptions(session, 4, tls), clean: true, manualConnect: false, reconnectPeriod: 0 });
        await clean.endAsync();
      }
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
