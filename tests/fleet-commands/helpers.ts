import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { generateEd25519, signerFromPem, type Signer } from "../../runtime/crypto/ed25519.ts";
import type { FleetKey } from "../../runtime/fleet/commands/keyfile.ts";
import { createCommandProcessor, type CommandProcessorDeps } from "../../runtime/fleet/commands/processor.ts";
import { newCommand, signCommand, type UnsignedCommand } from "../../runtime/fleet/commands/signing.ts";
import type { VerifyCommandContext } from "../../runtime/fleet/commands/verify.ts";
import { silentLogger } from "../../runtime/log.ts";
import { openDatabase, type Db } from "../../runtime/store/db.ts";
import type { Command } from "../../runtime/telemetry/messages.ts";
import { manualClock, NOW } from "../license/helpers.ts";

export { manualClock, NOW };

export const tmp = () => mkdtempSync(join(tmpdir(), "hearth-fleet-cmd-"));

const signer = (): Signer => signerFromPem(generateEd25519().privateKeyPem);
export const admin = signer();
export const stranger = signer();

export const KEY_ID = "fleet-test-1";
export const FLEET = "acme";
export const DEVICE = "hd-aaaaaaaaaaaaaaaaaaaaaaaaaa";
export const OTHER_DEVICE = "hd-bbbbbbbbbbbbbbbbbbbbbbbbbb";
export const GROUPS = ["clinics", "north"];
export const FLEET_KEYS: FleetKey[] = [{ keyId: KEY_ID, publicKey: admin.publicKey }];

export const encode = (doc: unknown): Uint8Array => new TextEncoder().encode(typeof doc === "string" ? doc : JSON.stringify(doc));

/** An unsigned command to this test's device, issued at NOW, valid 5 minutes. */
export function unsigned(over: Partial<UnsignedCommand> = {}, now = NOW): UnsignedCommand {
  return { ...newCommand({ kind: "config.set", target: { device: DEVICE }, fleet: FLEET, args: { path: "log.level", value: "debug" }, keyId: KEY_ID, ttlMs: 300_000 }, now), ...over };
}

/** A signed command (by the trusted fleet key unless `by` says otherwise). */
export const signed = (over: Partial<UnsignedCommand> = {}, by: Signer = admin): Command => signCommand(unsigned(over), by);

export function context(over: Partial<VerifyCommandContext> = {}): VerifyCommandContext {
  return {
    deviceId: DEVICE,
    fleet: FLEET,
    groups: GROUPS,
    fleetKeys: FLEET_KEYS,
    now: NOW,
    nonceSeen: () => false,
    kinds: ["config.set", "config.unset", "telemetry.flush", "license.install"],
    ...over,
  };
}

/** A processor over a real database in `dataDir`, as the box would build it. */
export function processor(dataDir: string, over: Partial<CommandProcessorDeps> = {}) {
  const db: Db = over.db ?? openDatabase(dataDir);
  const clock = manualClock();
  const proc = createCommandProcessor({ db, deviceId: DEVICE, fleet: FLEET, groups: GROUPS, fleetKeys: FLEET_KEYS, clock, logger: silentLogger, ...over });
  return { db, clock, proc, handle: (doc: unknown) => proc.handle(doc instanceof Uint8Array ? doc : encode(doc)) };
}
