/**
 * A stand-in for the box's telemetry client, for these tests only: it subscribes to the device's
 * and its groups' command topics, hands every payload to the real command processor and publishes
 * the ack, as the production client does.
 */
import { randomUUID } from "node:crypto";
import { connectAsync } from "mqtt";
import { createCommandProcessor, type CommandProcessorDeps } from "../../runtime/fleet/commands/processor.ts";
import { systemClock } from "../../runtime/clock.ts";
import { silentLogger } from "../../runtime/log.ts";
import { openDatabase, type Db } from "../../runtime/store/db.ts";
import { CommandAckSchema, type CommandAck } from "../../runtime/telemetry/messages.ts";
import { deviceTopic, groupCommandTopic } from "../../runtime/telemetry/topics.ts";
import { validate } from "../../runtime/validation.ts";
import type { TestBroker } from "../helpers/mosquitto.ts";
import type { FleetKey } from "../../runtime/fleet/commands/keyfile.ts";

export interface DeviceOptions {
  broker: TestBroker;
  dataDir: string;
  deviceId: string;
  fleet: string;
  groups: string[];
  fleetKeys: FleetKey[];
  /** Hooks and overrides of the processor's dependencies; `db` is given the device's database. */
  deps?: (db: Db) => Partial<CommandProcessorDeps>;
}

export interface TestDevice {
  deviceId: string;
  db: Db;
  /** Every ack this device published, in order. */
  acks: CommandAck[];
  stop(): Promise<void>;
}

export async function startDevice(opts: DeviceOptions): Promise<TestDevice> {
  const db = openDatabase(opts.dataDir);
  const processor = createCommandProcessor({
    db,
    deviceId: opts.deviceId,
    fleet: opts.fleet,
    groups: opts.groups,
    fleetKeys: opts.fleetKeys,
    clock: systemClock,
    logger: silentLogger,
    ...opts.deps?.(db),
  });
  const client = await connectAsync(opts.broker.url, { protocolVersion: opts.broker.protocolVersion, clientId: opts.deviceId, clean: true, reconnectPeriod: 0 }, false);
  const acks: CommandAck[] = [];
  client.on("message", async (_topic, payload) => {
    const outcome = await processor.handle(new Uint8Array(payload));
    // The ack the production client publishes: the processor's outcome in the shared envelope.
    const ack = validate(CommandAckSchema, { v: 1, id: randomUUID(), device: opts.deviceId, fleet: opts.fleet, ts: new Date().toISOString(), ...outcome });
    acks.push(ack);
    await client.publishAsync(deviceTopic(opts.fleet, opts.deviceId, "cmd/ack"), JSON.stringify(ack), { qos: 1 });
  });
  const topics = [deviceTopic(opts.fleet, opts.deviceId, "cmd"), ...opts.groups.map((g) => groupCommandTopic(opts.fleet, g))];
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    deviceId: opts.deviceId,
    db,
    acks,
    stop: async () => {
      await client.endAsync();
      db.close();
    },
  };
}
