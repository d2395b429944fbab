/**
 * The collector's MQTT session: MQTT 5 with a persistent session (clean start off, a session
 * expiry, a stable client id) and a Receive Maximum bounding a batch, or on a broker that knows
 * only MQTT 3.1.1, a 3.1.1 persistent session (clean session off), which has no shared
 * subscriptions: there a collector subscribes plainly, and asking for a share is refused.
 */
import type { IClientOptions, IClientSubscribeOptions } from "mqtt";
import { readFileSync } from "node:fs";
import { HearthError } from "../../errors.ts";
import { TOPIC_ROOT, collectorSubscription } from "../../telemetry/topics.ts";

export type ProtocolVersion = 4 | 5;

export interface SessionOptions {
  clientId: string;
  /** null: a plain subscription. */
  share: string | null;
  sessionExpirySeconds: number;
  receiveMaximum: number;
  retainedState: boolean;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new HearthError("invalid_request", `--${flag} ${path} cannot be read: ${(err as Error).message}`, { field: flag });
  }
}

/** Read once: a PEM file that cannot be read fails the start, not every reconnect. */
export function tlsFiles(o: Pick<SessionOptions, "caFile" | "certFile" | "keyFile">): Pick<IClientOptions, "ca" | "cert" | "key"> {
  return { ca: readPem(o.caFile, "ca"), cert: readPem(o.certFile, "cert"), key: readPem(o.keyFile, "key") };
}

export function clientOptions(o: SessionOptions, version: ProtocolVersion, tls: Pick<IClientOptions, "ca" | "cert" | "key">): IClientOptions {
  return {
    protocolVersion: version,
    clientId: o.clientId,
    clean: false,
    // Soon back after a broker restart: until it subscribes again, a shared subscription is gone.
    reconnectPeriod: 250,
    // Subscriptions are made on every connect, resumed session or not.
    resubscribe: false,
    connectTimeout: 10_000,
    ...(version === 5 ? { properties: { sessionExpiryInterval: o.sessionExpirySeconds, receiveMaximum: o.receiveMaximum } } : {}),
    username: o.username,
    password: o.password,
    ...tls,
    manualConnect: true,
  };
}

/** What to subscribe to; throws when a share is asked of a 3.1.1 broker. */
export function subscriptions(o: Pick<SessionOptions, "share" | "retainedState">, version: ProtocolVersion): Record<string, IClientSubscribeOptions> {
  if (o.share === null) {
    // No Local (MQTT 5): the collector's own receipts do not come back to it.
    return { [`${TOPIC_ROOT}/+/+/#`]: version === 5 ? { qos: 1, nl: true } : { qos: 1 } };
  }
  if (version === 4) {
    throw new HearthError(
      "invalid_request",
      `the broker speaks MQTT 3.1.1 only, which has no shared subscriptions (asked: share ${o.share}): run a single collector with --no-share`,
      { field: "share" },
    );
  }
  const topics: Record<string, IClientSubscribeOptions> = { [collectorSubscription(o.share)]: { qos: 1 } };
  // The broker gives no retained messages to a shared subscription: the states at start-up come this way.
  if (o.retainedState) topics[`${TOPIC_ROOT}/+/+/state`] = { qos: 1 };
  return topics;
}
