/**
 * The admin side over MQTT: publish a signed command (QoS 1) to a device's or a group's command
 * topic and collect the acks that name it. The ack subscription is made before the command is
 * published, so a fast box's ack cannot be missed.
 */
import { readFileSync } from "node:fs";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { Value } from "@sinclair/typebox/value";
import { HearthError } from "../../errors.ts";
import { CommandAckSchema, type Command, type CommandAck } from "../../telemetry/messages.ts";
import { deviceTopic, groupCommandTopic } from "../../telemetry/topics.ts";

export interface BrokerConnection {
  url: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** 5 (default) or 4 (MQTT 3.1.1) for brokers that speak no MQTT 5. */
  protocolVersion?: 4 | 5;
  connectTimeoutMs?: number;
}

export interface SendOptions {
  broker: BrokerConnection;
  command: Command;
  /** How long to wait for acks after publishing; 0 publishes only. */
  waitMs: number;
  /** Stop waiting once this many devices acked (1 for a device target). */
  expect?: number;
  /** Called once the broker acknowledged the command (PUBACK), before acks are awaited. */
  onPublished?: (topic: string) => void;
  onAck?: (ack: CommandAck) => void;
}

export interface SendResult {
  topic: string;
  /** One per device that answered, first ack wins (QoS 1 may deliver one twice), in arrival order. */
  acks: CommandAck[];
  /** An MQTT 5 broker said nothing subscribes to the topic: no box (of that group) is connected. */
  noSubscribers: boolean;
}

/** MQTT 5 PUBACK reason code 0x10. */
const NO_MATCHING_SUBSCRIBERS = 16;

export const commandTopic = (command: Command): string =>
  "device" in command.target ? deviceTopic(command.fleet, command.target.device, "cmd") : groupCommandTopic(command.fleet, command.target.group);

export const ackSubscription = (fleet: string): string => deviceTopic(fleet, "+", "cmd/ack");

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new HearthError("invalid_request", `--${flag} ${path} cannot be read (${(err as Error).message})`, { field: flag });
  }
}

export function connectOptions(b: BrokerConnection): IClientOptions {
  return {
    protocolVersion: b.protocolVersion ?? 5,
    clientId: `hearth-fleet-cmd-${crypto.randomUUID().slice(0, 8)}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: b.connectTimeoutMs ?? 10_000,
    ca: readPem(b.caFile, "ca"),
    cert: readPem(b.certFile, "cert"),
    key: readPem(b.keyFile, "cert-key"),
    username: b.username,
    password: b.password,
  };
}

/** Thrown when the broker cannot be reached or refuses the client; the CLI reports it. */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
}

export async function sendCommand(opts: SendOptions): Promise<SendResult> {
  const topic = commandTopic(opts.command);
  let client: MqttClient;
  try {
    client = await connectAsync(opts.broker.url, connectOptions(opts.broker), false);
  } catch (err) {
    throw new BrokerError(`cannot connect to ${opts.broker.url}: ${(err as Error).message}`);
  }
  const acks = new Map<string, CommandAck>();
  let noSubscribers = false;
  let done: () => void = () => {};
  const enough = new Promise<void>((resolve) => (done = resolve));
  client.on("message", (_topic, payload) => {
    let ack: unknown;
    try {
      ack = JSON.parse(payload.toString("utf8"));
    } catch {
      return; // not an ack of ours: other traffic on the fleet's ack topics is none of our business
    }
    if (!Value.Check(CommandAckSchema, ack) || ack.commandId !== opts.command.id || acks.has(ack.device)) return;
    acks.set(ack.device, ack);
    opts.onAck?.(ack);
    if (opts.expect !== undefined && acks.size >= opts.expect) done();
  });
  try {
    if (opts.waitMs > 0) {
      const granted = await client.subscribeAsync(ackSubscription(opts.command.fleet), { qos: 1 });
      if (granted.some((g) => g.qos === 128)) throw new BrokerError(`the broker refused the subscription to ${ackSubscription(opts.command.fleet)}`);
    }
    const puback = await client.publishAsync(topic, JSON.stringify(opts.command), { qos: 1 });
    noSubscribers = (puback as { reasonCode?: number } | undefined)?.reasonCode === NO_MATCHING_SUBSCRIBERS;
    opts.onPublished?.(topic);
    if (opts.waitMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([enough, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.waitMs)))]);
      clearTimeout(timer);
    }
  } catch (err) {
    if (err instanceof BrokerError) throw err;
    throw new BrokerError(`${opts.broker.url}: ${(err as Error).message}`);
  } finally {
    await client.endAsync().catch(() => {});
  }
  return { topic, acks: [...acks.values()], noSubscribers };
}
