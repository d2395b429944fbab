import { readFileSync } from "node:fs";
import type { Command, CommandContext, OptionSpec } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { intFlag, requiredFlag, stringFlag } from "../run.ts";
import { systemClock } from "../../clock.ts";
import { HearthError } from "../../errors.ts";
import { CommandSchema, type Command as FleetCommand, type CommandAck } from "../../telemetry/messages.ts";
import { validate } from "../../validation.ts";
import { generateFleetKeyPair, loadFleetSigningKey } from "../../fleet/commands/keyfile.ts";
import { MAX_COMMAND_LIFETIME_MS } from "../../fleet/commands/limits.ts";
import { newCommand, signCommand } from "../../fleet/commands/signing.ts";
import { BrokerError, sendCommand, type BrokerConnection } from "../../fleet/commands/send.ts";

const keygenCommand: Command = {
  path: ["fleet", "keygen"],
  summary: "Generate a fleet key pair for signing commands (on the admin's machine; boxes get only the public key)",
  options: {
    out: { type: "string", value: "DIR", description: "Directory for fleet-private.pem (0600) and fleet-public.json; existing keys are never overwritten" },
    "key-id": { type: "string", value: "ID", description: "Key id commands will name (default: derived from the public key)" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const files = generateFleetKeyPair(requiredFlag(ctx, "out"), stringFlag(ctx, "key-id"));
    if (ctx.values.json) ctx.io.out(JSON.stringify(files));
    else {
      ctx.io.out(
        `Generated fleet key ${files.keyId}\n  private key: ${files.privateKeyPath} (signs commands; keep it off the boxes)\n  public key:  ${files.publicKeyPath}\n\n` +
          `A box accepts its commands with config telemetry.fleetKeys, e.g.\n  HEARTH_TELEMETRY_FLEET_KEYS='${JSON.stringify([{ keyId: files.keyId, publicKey: files.publicKey }])}'`,
      );
    }
    return 0;
  },
};

/** A --arg value: `@FILE` is the file's text, JSON when it parses (numbers, true, null...), else the text itself. */
function argValue(raw: string): unknown {
  if (raw.startsWith("@")) {
    try {
      return readFileSync(raw.slice(1), "utf8");
    } catch (err) {
      throw new HearthError("invalid_request", `--arg: ${raw.slice(1)} cannot be read (${(err as Error).message})`, { field: "arg" });
    }
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** --args JSON, then each --arg K=V over it. */
function commandArgs(ctx: CommandContext): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  const json = stringFlag(ctx, "args");
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new HearthError("invalid_request", `--args is not JSON (${(err as Error).message})`, { field: "args" });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HearthError("invalid_request", "--args must be a JSON object", { field: "args" });
    args = parsed as Record<string, unknown>;
  }
  // parseArgs collects a repeated --arg into an array (multiple: true below).
  const pairs = ctx.values.arg as unknown;
  for (const pair of Array.isArray(pairs) ? (pairs as string[]) : typeof pairs === "string" ? [pairs] : []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new HearthError("invalid_request", `--arg ${JSON.stringify(pair)} must be KEY=VALUE`, { field: "arg" });
    args[pair.slice(0, eq)] = argValue(pair.slice(eq + 1));
  }
  return args;
}

function target(ctx: CommandContext): FleetCommand["target"] {
  const device = stringFlag(ctx, "device");
  const group = stringFlag(ctx, "group");
  if ((device === undefined) === (group === undefined)) throw new HearthError("invalid_request", "give either --device D or --group G", { field: device === undefined ? "device" : "group" });
  return device !== undefined ? { device } : { group: group! };
}

function seconds(ctx: CommandContext, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = intFlag(ctx.values, name) ?? fallback;
  if (n < min || n > max) throw new HearthError("invalid_request", `--${name}: ${n} must be between ${min} and ${max}`, { field: name });
  return n;
}

function brokerConnection(ctx: CommandContext): BrokerConnection {
  const url = requiredFlag(ctx, "broker");
  if (!/^mqtts?:\/\//.test(url)) throw new HearthError("invalid_request", `--broker ${url} must be an mqtt:// or mqtts:// URL`, { field: "broker" });
  const version = stringFlag(ctx, "mqtt-version") ?? "5";
  if (version !== "4" && version !== "5") throw new HearthError("invalid_request", "--mqtt-version must be 5 or 4 (3.1.1)", { field: "mqtt-version" });
  return {
    url,
    caFile: stringFlag(ctx, "ca"),
    certFile: stringFlag(ctx, "cert"),
    keyFile: stringFlag(ctx, "cert-key"),
    username: stringFlag(ctx, "username"),
    password: stringFlag(ctx, "password") ?? ctx.io.env.HEARTH_FLEET_PASSWORD,
    protocolVersion: version === "4" ? 4 : 5,
  };
}

const describeAck = (ack: CommandAck): string =>
  ack.outcome === "done" ? `${ack.device}  done      ${JSON.stringify(ack.result ?? {})}` : `${ack.device}  ${ack.outcome.padEnd(8)}  ${ack.code ?? "-"}: ${ack.reason ?? ""}`;

const BROKER_OPTIONS: Record<string, OptionSpec> = {
  broker: { type: "string", value: "URL", description: "MQTT broker (mqtt:// or mqtts://)" },
  ca: { type: "string", value: "FILE", description: "CA certificate (PEM) that signed the broker's certificate" },
  cert: { type: "string", value: "FILE", description: "Client certificate (PEM) for brokers that require one" },
  "cert-key": { type: "string", value: "FILE", description: "The client certificate's private key (PEM)" },
  username: { type: "string", value: "NAME", description: "Broker user name" },
  password: { type: "string", value: "PASS", description: "Broker password (default: $HEARTH_FLEET_PASSWORD, which stays out of `ps`)" },
  "mqtt-version": { type: "string", value: "5|4", description: "MQTT protocol version (default 5; 4 is 3.1.1)" },
};

const commandCommand: Command = {
  path: ["fleet", "command"],
  summary: "Sign a fleet command, publish it to a device or a group and print each box's ack",
  args: "KIND",
  options: {
    key: { type: "string", value: "FILE", description: "Fleet private key (PEM, from fleet keygen)" },
    "key-id": { type: "string", value: "ID", description: "Key id to name (default: from fleet-public.json beside the key, else derived)" },
    fleet: { type: "string", value: "F", description: "Fleet name (the boxes' telemetry.fleet)" },
    device: { type: "string", value: "D", description: "Send to this device id" },
    group: { type: "string", value: "G", description: "Send to every box in this group (telemetry.groups)" },
    // OptionSpec has no `multiple`; parseArgs takes it, collecting every --arg.
    arg: { type: "string", value: "K=V", multiple: true, description: "An argument (repeatable); V is JSON when it parses, @FILE reads a file, else text" } as OptionSpec,
    args: { type: "string", value: "JSON", description: "All arguments as a JSON object (--arg values go over it)" },
    ttl: { type: "string", value: "SECONDS", description: `Seconds the command stays valid (default 300, at most ${MAX_COMMAND_LIFETIME_MS / 1000})` },
    wait: { type: "string", value: "SECONDS", description: "Seconds to wait for acks (default 10; 0 publishes only)" },
    expect: { type: "string", value: "N", description: "Stop waiting once N devices acked (default 1 for --device; a group waits --wait)" },
    ...BROKER_OPTIONS,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const kind = ctx.positionals[0];
    if (!kind) throw new HearthError("invalid_request", "the command KIND is required (config.set, config.unset, telemetry.flush, license.install, ota.check, ota.rollback)", { field: "kind" });
    if (ctx.positionals.length > 1) throw new HearthError("invalid_request", `unexpected ${JSON.stringify(ctx.positionals[1])}: arguments go in --arg K=V or --args JSON`, { field: "arg" });
    const to = target(ctx);
    const ttl = seconds(ctx, "ttl", 300, 1, MAX_COMMAND_LIFETIME_MS / 1000);
    const wait = seconds(ctx, "wait", 10, 0, 3600);
    const expect = intFlag(ctx.values, "expect") ?? ("device" in to ? 1 : undefined);
    const broker = brokerConnection(ctx);
    const { signer, keyId } = loadFleetSigningKey(requiredFlag(ctx, "key"), stringFlag(ctx, "key-id"));
    const unsigned = newCommand({ kind, target: to, fleet: requiredFlag(ctx, "fleet"), args: commandArgs(ctx), keyId, ttlMs: ttl * 1000 }, systemClock.now());
    // The same schema the box checks: a bad flag is named here rather than refused there.
    const command = validate(CommandSchema, signCommand(unsigned, signer));
    const json = ctx.values.json === true;
    const where = "device" in to ? `device ${to.device}` : `group ${to.group}`;

    let sent;
    try {
      sent = await sendCommand({
        broker,
        command,
        waitMs: wait * 1000,
        expect,
        onPublished: json ? undefined : (topic) => ctx.io.out(`sent ${kind} ${command.id} to ${where} (${topic}), valid until ${command.expiresAt}`),
        onAck: json ? undefined : (ack) => ctx.io.out(describeAck(ack)),
      });
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (json) ctx.io.err(JSON.stringify({ error: { code: "broker_unreachable", message: err.message, field: "broker" } }));
      else ctx.io.err(`hearth: ${err.message}`);
      return 1;
    }
    const refused = sent.acks.filter((a) => a.outcome !== "done");
    const missing = wait > 0 && sent.acks.length < (expect ?? 0);
    if (json) {
      const { signature: _, ...shown } = command;
      ctx.io.out(JSON.stringify({ command: shown, topic: sent.topic, acks: sent.acks, noSubscribers: sent.noSubscribers, missing }));
    } else if (wait > 0) {
      if (sent.acks.length === 0) ctx.io.out(`no ack within ${wait} s${sent.noSubscribers ? " (the broker says no box is subscribed to that topic)" : ""}`);
      else if (missing) ctx.io.out(`${sent.acks.length} of ${expect} expected acks within ${wait} s`);
    }
    // 1: a box refused or failed it; 3: not every expected box answered in time.
    return refused.length > 0 ? 1 : missing ? 3 : 0;
  },
};

/** `hearth fleet command|keygen`: signing and sending fleet commands. */
export const fleetCommandCommands: Command[] = [keygenCommand, commandCommand];
