/**
 * The connection to the fleet's MQTT broker: MQTT 5 over mqtt:// or mqtts:// (CA, client
 * certificate, user name and password from config), falling back to 3.1.1 for a broker that
 * refuses 5. Reconnecting is ours, not mqtt.js's (its reconnectPeriod is a fixed interval):
 * exponential back-off with jitter on the timers passed in. Each attempt is a fresh mqtt.js
 * client; what must survive a reconnect lives in the outbox, not in mqtt.js's memory.
 */
import { readFileSync } from "node:fs";
import type { IClientOptions, MqttClient } from "mqtt";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
import type { TimerHandle, Timers } from "./timers.ts";

let mqttConnect: typeof import("mqtt").connect | null = null;

export interface BrokerAuth {
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** One live connection, as the outbox drain sees it. */
export interface BrokerSession {
  readonly protocolVersion: 4 | 5;
  /** QoS 1 publishes that may await their PUBACK at once: the broker's Receive Maximum, capped. */
  readonly window: number;
  /** QoS 1; `done` gets null on PUBACK, an error when the broker refused it or the link went. */
  publish(topic: string, payload: string, retain: boolean, done: (err: Error | null) => void): void;
}

export interface BrokerLinkOptions {
  url: string;
  clientId: string;
  auth: BrokerAuth;
  /** Topics to subscribe to (QoS 1) on every connection. */
  subscriptions: () => string[];
  /** The Last Will for the next connection, or null for none. */
  will: () => { topic: string; payload: string } | null;
  onUp(session: BrokerSession): void;
  onDown(): void;
  onMessage(topic: string, payload: Buffer): void;
  clock: Clock;
  timers: Timers;
  /** [0, 1), for the back-off's jitter. */
  random: () => number;
  logger: Logger;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  /** How long the broker keeps this box's session (its command subscriptions) while it is away. */
  sessionExpirySeconds?: number;
  /** Upper bound on publishes in flight, below the broker's Receive Maximum. */
  maxInFlight?: number;
}

export interface BrokerLinkStatus {
  connected: boolean;
  protocolVersion: 4 | 5 | null;
  /** Why the last attempt or connection failed, e.g. "Connection refused: Not authorized". */
  lastError: string | null;
  /** Failed attempts since the last connection that held. */
  attempts: number;
  /** The delay before the pending reconnect, when one is pending. */
  nextRetryMs: number | null;
}

/** A connection that lasted this long resets the back-off; a broker that accepts and drops at once does not. */
const STABLE_MS = 30_000;

/** CONNACK codes of a broker that does not speak MQTT 5 (3.1.1's code 1, MQTT 5's 0x84). */
export const UNSUPPORTED_PROTOCOL = new Set([1, 132]);

export class BrokerLink {
  private client: MqttClient | null = null;
  private session: BrokerSession | null = null;
  private version: 4 | 5 = 5;
  private attempts = 0;
  private lastError: string | null = null;
  private retry: { handle: TimerHandle; ms: number } | null = null;
  private stopped = false;
  private upSince = 0;
  /** Resolves when the current connection closes (a stop need not wait for a dead one). */
  private closed: Promise<void> = Promise.resolve();

  constructor(private readonly opts: BrokerLinkOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  status(): BrokerLinkStatus {
    return {
      connected: this.session !== null,
      protocolVersion: this.session ? this.version : null,
      lastError: this.lastError,
      attempts: this.attempts,
      nextRetryMs: this.retry?.ms ?? null,
    };
  }

  /**
   * Publishes `goodbye` (retained, QoS 1, waiting up to `timeoutMs` for its PUBACK) and closes
   * with a normal DISCONNECT, so the broker discards the Last Will.
   */
  async stop(goodbye: { topic: string; payload: string } | null, timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    if (this.retry) this.opts.timers.clearTimeout(this.retry.handle);
    this.retry = null;
    const client = this.client;
    const session = this.session;
    if (!client) return;
    if (!session) {
      // Still connecting: there is nobody to say goodbye to.
      client.end(true);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    const until = (p: Promise<unknown>) => withTimeout(Promise.race([p, this.closed]), Math.max(0, deadline - Date.now()));
    if (goodbye) await until(new Promise<void>((resolve) => session.publish(goodbye.topic, goodbye.payload, true, () => resolve())));
    await until(client.endAsync(false).catch(() => undefined));
    client.end(true);
  }

  private connect(): void {
    this.retry = null;
    if (this.stopped) return;
    // mqtt.js (and its stream polyfills) is loaded with the first connection: a box without a
    // broker never pays its memory.
    if (!mqttConnect) {
      void import("mqtt").then(
        (mqtt) => {
          mqttConnect = mqtt.connect;
          this.connect();
        },
        (err) => this.fail(errorText(err)),
      );
      return;
    }
    let client: MqttClient;
    try {
      client = mqttConnect(this.opts.url, this.clientOptions());
    } catch (err) {
      // A CA or key file that cannot be read, or a URL mqtt.js refuses: reported, retried later.
      this.fail(errorText(err));
      return;
    }
    this.client = client;
    let up = false;
    let closed = false;
    let markClosed = () => {};
    this.closed = new Promise<void>((resolve) => (markClosed = resolve));
    let error: string | null = null;
    let fallback = false;
    client.on("connect", (connack) => {
      up = true;
      this.upSince = this.opts.clock.monotonic();
      this.lastError = null;
      const receiveMaximum = connack.properties?.receiveMaximum ?? 65_535;
      const window = Math.max(1, Math.min(receiveMaximum, this.opts.maxInFlight ?? 1_000));
      const version = this.version;
      this.session = {
        protocolVersion: version,
        window,
        publish: (topic, payload, retain, done) => {
          client.publish(topic, payload, { qos: 1, retain }, (err) => done(err ?? null));
        },
      };
      const topics = this.opts.subscriptions();
      if (topics.length > 0) {
        client.subscribe(Object.fromEntries(topics.map((t) => [t, { qos: 1 as const }])), (err) => {
          if (err) this.opts.logger.warn("telemetry: the broker refused the command subscriptions", { error: err.message });
        });
      }
      this.opts.logger.info("telemetry: connected to the broker", { broker: redactUrl(this.opts.url), mqtt: version === 5 ? "5" : "3.1.1" });
      this.opts.onUp(this.session);
    });
    client.on("message", (topic, payload) => this.opts.onMessage(topic, payload));
    client.on("error", (err: Error & { code?: unknown }) => {
      error = errorText(err);
      if (!up && this.version === 5 && typeof err.code === "number" && UNSUPPORTED_PROTOCOL.has(err.code)) fallback = true;
    });
    client.on("close", () => {
      if (closed) return;
      closed = true;
      markClosed();
      client.removeAllListeners("connect");
      client.removeAllListeners("message");
      client.end(true);
      if (this.client === client) this.client = null;
      if (up) {
        this.session = null;
        this.opts.onDown();
        if (this.opts.clock.monotonic() - this.upSince >= STABLE_MS) this.attempts = 0;
      }
      if (this.stopped) return;
      if (fallback) {
        this.version = 4;
        this.opts.logger.warn("telemetry: the broker does not speak MQTT 5; using MQTT 3.1.1", { broker: redactUrl(this.opts.url), error });
        this.schedule(0);
        return;
      }
      this.fail(error ?? (up ? "the broker closed the connection" : "the connection closed before the broker answered"));
    });
  }

  private fail(error: string): void {
    this.lastError = error;
    if (this.stopped) return;
    const ms = backoffDelayMs(this.attempts, this.opts.random, this.opts.backoff ?? DEFAULT_BACKOFF);
    this.attempts++;
    this.opts.logger.warn("telemetry: broker connection failed", { broker: redactUrl(this.opts.url), error, retry_in_ms: ms });
    this.schedule(ms);
  }

  private schedule(ms: number): void {
    this.retry = { handle: this.opts.timers.setTimeout(() => this.connect(), ms), ms };
  }

  private clientOptions(): IClientOptions {
    const { auth } = this.opts;
    const v5 = this.version === 5;
    const will = this.opts.will();
    return {
      clientId: this.opts.clientId,
      protocolVersion: this.version,
      // A persistent session keeps the command subscriptions (and commands sent meanwhile) while
      // the box is away; the outbox, not the session, carries what the box sends.
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? 86_400 } } : {}),
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      resubscribe: false,
      queueQoSZero: false,
      ...(auth.username !== undefined ? { username: auth.username } : {}),
      ...(auth.password !== undefined ? { password: auth.password } : {}),
      ...(auth.caFile ? { ca: readFileSync(auth.caFile) } : {}),
      ...(auth.certFile ? { cert: readFileSync(auth.certFile) } : {}),
      ...(auth.keyFile ? { key: readFileSync(auth.keyFile) } : {}),
      ...(will ? { will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1 as const, retain: true } } : {}),
    };
  }
}

/** The broker URL without a password, for logs and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
