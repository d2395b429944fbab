/**
 * The box's telemetry: producers (health, usage, audit, command acks) write to the outbox, the
 * drain moves the outbox to the broker whenever the link is up, receipts from the collector
 * release usage and audit messages, and the policy decides what is produced at all. One instance
 * per box (per data dir); everything it needs is passed in.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../store/db.ts";
import { validate } from "../validation.ts";
import { AuditFeed } from "./audit-feed.ts";
import type { BackoffOptions } from "./backoff.ts";
import { BrokerLink, redactUrl, type BrokerSession } from "./broker-link.ts";
import { CommandIntake, commandTopics, unsupportedCommands, type CommandAnswer } from "./command-intake.ts";
import { OutboxDrain } from "./drain.ts";
import type { HealthSampler } from "./health.ts";
import { messageId } from "./ids.ts";
import { StateMessageSchema, type CommandProcessor, type OtaMessage, type StateMessage } from "./messages.ts";
import { Outbox, type OutboxChannel, type OutboxDepth } from "./outbox.ts";
import { telemetryPolicy, type TelemetryPolicy, type Tier } from "./policy.ts";
import { ReceiptIntake, type ReceiptStats } from "./receipt-intake.ts";
import { every, systemTimers, type Timers } from "./timers.ts";
import { deviceTopic } from "./topics.ts";
import { UsageFeed } from "./usage-feed.ts";

export interface TelemetryDeps {
  config: Config["telemetry"];
  db: Db;
  /** The device identity's id: the MQTT client id and the topic segment. */
  deviceId: string;
  clock: Clock;
  logger: Logger;
  /** The license in force, read at start and at every report. */
  license: () => { tier: Tier; licenseId: string | null };
  /** Runtime version, in state messages. */
  version: string;
  /** Model ids served, in state messages. */
  models?: () => string[];
  /** Handles payloads from the command topics; default: every command refused as unsupported. */
  commands?: CommandProcessor;
  /** Health snapshots; without one no health is produced. */
  health?: HealthSampler;
  timers?: Timers;
  /** [0, 1), for reconnect jitter. */
  random?: () => number;
  backoff?: BackoffOptions;
  /** Publishes awaiting PUBACK at once (below the broker's Receive Maximum). */
  maxInFlight?: number;
}

export interface TelemetryStatus {
  started: boolean;
  /** The broker URL without its password; null when none is configured. */
  broker: string | null;
  connected: boolean;
  protocolVersion: 4 | 5 | null;
  lastError: string | null;
  reconnectAttempts: number;
  policy: Omit<TelemetryPolicy, "licenseId"> | null;
  outbox: OutboxDepth & { inFlight: number; refused: number };
  /** Delivery receipts from the collector (`awaiting`: acknowledged by the broker, not yet receipted); null when `telemetry.receipts` is off. */
  receipts?: (ReceiptStats & { awaiting: number }) | null;
}

export interface FlushResult {
  /** The usage message produced now, if the ledger had new records. */
  usageSeq: number | null;
  /** Audit checkpoints enqueued now. */
  audits: number;
  /** Messages still in the outbox afterwards. */
  pending: number;
  /** Everything queued up to the flush left the outbox: acknowledged by the broker, and usage and audit receipted by the collector when receipts are on. */
  delivered: boolean;
}

type Payload = { id: string; device: string; fleet: string };

export class Telemetry {
  readonly outbox: Outbox;
  private readonly drain: OutboxDrain;
  private readonly usage: UsageFeed;
  private readonly audit: AuditFeed;
  private readonly intake: CommandIntake;
  private readonly receipts: ReceiptIntake | null;
  private readonly timers: Timers;
  private link: BrokerLink | null = null;
  private session: BrokerSession | null = null;
  private stoppers: (() => void)[] = [];
  private started = false;
  private stopped = false;

  constructor(private readonly deps: TelemetryDeps) {
    const { db, clock, logger, config, deviceId: device } = deps;
    const fleet = config.fleet;
    this.timers = deps.timers ?? systemTimers;
    const receipts = config.receipts ? { timeoutMs: config.receiptTimeoutSeconds * 1000 } : null;
    this.outbox = new Outbox(db, { maxMessages: config.outboxMaxMessages, clock, logger, receipts });
    this.drain = new OutboxDrain(this.outbox, logger, this.timers);
    this.receipts = receipts ? new ReceiptIntake({ fleet, device, receipted: (ids) => this.drain.receipted(ids), logger }) : null;
    this.usage = new UsageFeed({ db, outbox: this.outbox, clock, device, fleet });
    this.audit = new AuditFeed({ db, outbox: this.outbox, clock, logger, device, fleet });
    this.intake = new CommandIntake({ processor: deps.commands ?? unsupportedCommands, ack: (a) => this.ack(a), logger });
  }

  /** What the current license and opt-in allow. */
  policy(): TelemetryPolicy {
    const { tier, licenseId } = this.deps.license();
    return telemetryPolicy(tier, this.deps.config.enabled, licenseId);
  }

  /** Call once the license state is known. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const { config, logger } = this.deps;
    const policy = this.policy();
    if (!policy.connect) {
      logger.info("telemetry off: the Community tier sends nothing unless telemetry.enabled is set");
      return;
    }
    if (policy.health && this.deps.health) {
      // One snapshot at start, so the fleet sees a box that just booted without waiting an interval.
      void this.sampleHealth();
      this.stoppers.push(every(this.timers, config.healthIntervalSeconds * 1000, () => this.sampleHealth()));
    }
    if (policy.usage || policy.audit) {
      this.report();
      this.stoppers.push(every(this.timers, config.usageIntervalSeconds * 1000, () => this.report()));
    }
    if (!config.broker) {
      logger.info("telemetry: no broker configured; messages wait in the outbox", { depth: this.outbox.depth().total });
      return;
    }
    this.link = new BrokerLink({
      url: config.broker,
      clientId: this.deps.deviceId,
      auth: { username: config.username, password: config.password, caFile: config.caFile, certFile: config.certFile, keyFile: config.keyFile },
      subscriptions: () => [...commandTopics(config.fleet, this.deps.deviceId, config.groups), ...(this.receipts ? [this.receipts.topic] : [])],
      will: () => (this.policy().state ? this.stateMessage("offline") : null),
      onUp: (session) => this.up(session),
      onDown: () => {
        this.session = null;
        this.drain.detach();
      },
      onMessage: (topic, payload) => (topic === this.receipts?.topic ? this.receipts.receive(payload) : this.intake.receive(payload)),
      clock: this.deps.clock,
      timers: this.timers,
      random: this.deps.random ?? Math.random,
      logger,
      backoff: this.deps.backoff,
      maxInFlight: this.deps.maxInFlight,
    });
    this.link.start();
  }

  /** The fields every message starts with, with a fresh id (`prefix` names the channel in it). */
  envelope(prefix: string): { v: 1; id: string; device: string; fleet: string; ts: string } {
    const { clock, deviceId, config } = this.deps;
    return { v: 1, id: messageId(prefix, clock), device: deviceId, fleet: config.fleet, ts: new Date(clock.now()).toISOString() };
  }

  /** Validates and commits a message (durable on return), then sends it when the link is up. */
  enqueue(channel: OutboxChannel, payload: Payload): number {
    const id = this.outbox.enqueue(channel, payload);
    this.drain.kick();
    return id;
  }

  /** Several messages in one commit. */
  enqueueMany(items: { channel: OutboxChannel; payload: Payload }[]): number {
    const id = this.outbox.enqueueMany(items);
    this.drain.kick();
    return id;
  }

  /** Produces usage and audit now (as the policy allows), then waits up to `timeoutMs` for the broker to take everything queued. */
  async flush(opts: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const produced = this.started && !this.stopped ? this.report() : { usageSeq: null, audits: 0 };
    const upTo = this.outbox.lastId();
    const delivered = this.link?.status().connected ? await this.drain.whenDrained(upTo, opts.timeoutMs ?? 10_000) : !this.outbox.hasUpTo(upTo);
    return { ...produced, pending: this.outbox.depth().total, delivered };
  }

  /**
   * Queues an update (OTA) event for `/ota` whenever this box talks to the fleet at all: release
   * names, versions and states, never anything a customer typed.
   */
  otaEvent(event: string, detail: Record<string, unknown>): boolean {
    if (this.stopped || !this.policy().connect) return false;
    const message: OtaMessage = { ...this.envelope("o"), event, detail };
    this.enqueue("ota", message);
    return true;
  }

  /** Takes a health snapshot now, if the policy allows; false when none was taken. */
  async sampleHealth(): Promise<boolean> {
    if (!this.deps.health || !this.policy().health || this.stopped) return false;
    try {
      const snapshot = await this.deps.health.sample();
      if (this.stopped) return false;
      this.enqueue("health", { ...this.envelope("h"), ...snapshot });
      return true;
    } catch (err) {
      this.deps.logger.warn("telemetry: health sample failed", { error: (err as Error).message });
      return false;
    }
  }

  status(): TelemetryStatus {
    const link = this.link?.status();
    const { licenseId: _, ...policy } = this.policy();
    return {
      started: this.started,
      broker: this.deps.config.broker ? redactUrl(this.deps.config.broker) : null,
      connected: link?.connected ?? false,
      protocolVersion: link?.protocolVersion ?? null,
      lastError: link?.lastError ?? null,
      reconnectAttempts: link?.attempts ?? 0,
      policy: this.started ? policy : null,
      outbox: { ...this.outbox.depth(), ...this.drain.status() },
      receipts: this.receipts ? { ...this.receipts.stats, awaiting: this.outbox.awaitingReceipt() } : null,
    };
  }

  /**
   * Stops producing, records the usage and checkpoints so far (sent at the next start), answers
   * commands already received, publishes the retained "offline" state and disconnects cleanly.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const stop of this.stoppers) stop();
    this.stoppers = [];
    if (this.started && (this.policy().usage || this.policy().audit)) this.report();
    await Promise.race([this.intake.settled(), Bun.sleep(1_000)]);
    const goodbye = this.link && this.policy().state ? this.stateMessage("offline") : null;
    await this.link?.stop(goodbye);
    this.drain.detach();
  }

  /**
   * Publishes a fresh retained "online" state (e.g. once the models are served, which the birth
   * at connect may predate). Offline it does nothing: the next birth carries the news.
   */
  announce(): void {
    if (this.session && !this.stopped) this.birth(this.session);
  }

  private up(session: BrokerSession): void {
    this.session = session;
    this.birth(session);
    this.drain.attach(session);
  }

  private birth(session: BrokerSession): void {
    if (!this.policy().state) return;
    const birth = this.stateMessage("online");
    session.publish(birth.topic, birth.payload, true, (err) => {
      if (err) this.deps.logger.warn("telemetry: the broker refused the state message", { error: err.message });
    });
  }

  /** A state message (birth, will, goodbye): sent directly, never queued, since it describes this connection. */
  private stateMessage(state: "online" | "offline"): { topic: string; payload: string } {
    const policy = this.policy();
    const message: StateMessage = {
      ...this.envelope("s"),
      state,
      version: this.deps.version,
      tier: this.deps.license().tier,
      ...(policy.licenseId ? { licenseId: policy.licenseId } : {}),
      ...(this.deps.models ? { models: this.deps.models().slice(0, 16) } : {}),
    };
    validate(StateMessageSchema, message, "internal");
    return { topic: deviceTopic(this.deps.config.fleet, this.deps.deviceId, "state"), payload: JSON.stringify(message) };
  }

  /** Usage and audit as the policy allows. */
  private report(): { usageSeq: number | null; audits: number } {
    const { tier } = this.deps.license();
    const policy = this.policy();
    let usageSeq: number | null = null;
    let audits = 0;
    try {
      if (policy.usage) usageSeq = this.usage.produce({ tier, licenseId: policy.licenseId })?.seq ?? null;
      if (policy.audit) audits = this.audit.produce(policy.licenseId);
    } catch (err) {
      this.deps.logger.error("telemetry: usage or audit report failed", { error: (err as Error).message });
    }
    if (usageSeq !== null || audits > 0) this.drain.kick();
    return { usageSeq, audits };
  }

  private ack(answer: CommandAnswer): void {
    this.enqueue("cmd/ack", { ...this.envelope("k"), ...answer });
  }
}
