/**
 * The box's fleet command processor: the telemetry client hands it every payload from a command
 * topic and publishes the ack it returns. Each payload gets exactly one ack (done, rejected with a
 * code and reason, or failed), and handle() never throws.
 *
 * A verified command's nonce is recorded durably before the command runs; kinds run through hooks
 * passed in, so this module knows nothing of the server, the telemetry client or the license store.
 */
import type { Clock } from "../../clock.ts";
import { isHearthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { Db } from "../../store/db.ts";
import type { CommandProcessor } from "../../telemetry/messages.ts";
import { removeConfigOverride, storeConfigOverride } from "./config-overrides.ts";
import type { FleetKey } from "./keyfile.ts";
import type { CheckedArgs, CommandKind } from "./kinds.ts";
import { HANDLER_TIMEOUT_MS, MAX_REASON_CHARS } from "./limits.ts";
import { claimNonce, nonceSeen } from "./nonces.ts";
import { verifyCommand } from "./verify.ts";

export type CommandOutcome = Awaited<ReturnType<CommandProcessor["handle"]>>;

/** What `license.install` reports when the license was installed; a refusal throws (license_invalid). */
export interface LicenseInstalled {
  tier: string;
  licenseId?: string | null;
  expiresAt?: string | null;
  reason?: string;
}

export interface CommandProcessorDeps {
  /** The migrated runtime database: nonces and config overrides live there. */
  db: Db;
  deviceId: string;
  fleet: string;
  groups: readonly string[];
  fleetKeys: readonly FleetKey[];
  clock: Clock;
  logger: Logger;
  /** telemetry.flush: publish what the outbox holds now; what it returns goes into the ack. */
  flush?: () => Promise<Record<string, unknown> | void>;
  /** license.install: verify and install (license-hook.ts adapts installLicenseState). */
  installLicense?: (bytes: Uint8Array) => Promise<LicenseInstalled> | LicenseInstalled;
  /**
   * config.set / config.unset, after the override is stored: apply it to the running box; true
   * when it took effect now, false when it waits for the next start. Without the hook every
   * change waits for the next start. `value` is undefined for config.unset.
   */
  applyConfig?: (path: string, value: unknown) => Promise<boolean> | boolean;
  /** ota.check / ota.rollback: the OTA agent's hooks (ota/agent/wire.ts); without them the kinds are unknown. */
  ota?: {
    check(args: { apply: boolean }): Promise<Record<string, unknown>>;
    rollback(args: { version?: string; adapter?: string }): Promise<Record<string, unknown>>;
  };
  handlerTimeoutMs?: number;
}

const clip = (text: string) => (text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 3)}...` : text);

class HandlerTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeout(`the command did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createCommandProcessor(deps: CommandProcessorDeps): CommandProcessor {
  const kinds: CommandKind[] = ["config.set", "config.unset"];
  if (deps.flush) kinds.push("telemetry.flush");
  if (deps.installLicense) kinds.push("license.install");
  if (deps.ota) kinds.push("ota.check", "ota.rollback");

  async function run(args: CheckedArgs, commandId: string, now: number): Promise<Record<string, unknown>> {
    switch (args.kind) {
      case "config.set":
      case "config.unset": {
        const value = args.kind === "config.set" ? args.value : undefined;
        if (args.kind === "config.set") storeConfigOverride(deps.db, { path: args.path, value: args.value, commandId, setAt: now });
        const removed = args.kind === "config.unset" ? removeConfigOverride(deps.db, args.path) : undefined;
        // Stored first: the change holds from the next start even when applying it now fails.
        let live = false;
        let liveError: string | undefined;
        try {
          live = (await deps.applyConfig?.(args.path, value)) ?? false;
        } catch (err) {
          liveError = (err as Error).message;
        }
        return {
          path: args.path,
          ...(args.kind === "config.set" ? { value } : { removed }),
          appliesAt: live ? "now" : "next start",
          ...(liveError ? { liveError: clip(liveError) } : {}),
        };
      }
      case "telemetry.flush":
        return (await deps.flush!()) ?? {};
      case "license.install": {
        const installed = await deps.installLicense!(args.license);
        return { ...installed };
      }
      case "ota.check":
        return deps.ota!.check({ apply: args.apply });
      case "ota.rollback":
        return deps.ota!.rollback({ version: args.version, adapter: args.adapter });
      default:
        return args satisfies never;
    }
  }

  async function handle(payload: Uint8Array): Promise<CommandOutcome> {
    let commandId: string | null = null;
    let kind: string | undefined;
    try {
      const now = deps.clock.now();
      const verdict = verifyCommand(payload, {
        deviceId: deps.deviceId,
        fleet: deps.fleet,
        groups: deps.groups,
        fleetKeys: deps.fleetKeys,
        now,
        nonceSeen: (nonce) => nonceSeen(deps.db, nonce),
        kinds,
      });
      if (!verdict.ok) {
        deps.logger.warn("fleet command rejected", { commandId: verdict.commandId, code: verdict.code, field: verdict.field });
        return { commandId: verdict.commandId, outcome: "rejected", code: verdict.code, reason: clip(verdict.reason) };
      }
      commandId = verdict.command.id;
      kind = verdict.command.kind;
      if (!claimNonce(deps.db, verdict.command, now)) {
        deps.logger.warn("fleet command rejected", { commandId, kind, code: "replayed" });
        return { commandId, outcome: "rejected", code: "replayed", reason: `nonce ${verdict.command.nonce} was already used by an accepted command; a command runs at most once` };
      }
      const result = await withTimeout(run(verdict.args, commandId, now), deps.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS);
      deps.logger.info("fleet command done", { commandId, kind, keyId: verdict.command.keyId });
      return { commandId, outcome: "done", result };
    } catch (err) {
      const code = err instanceof HandlerTimeout ? "timeout" : isHearthError(err) ? err.code : "internal";
      const reason = clip((err as Error)?.message ?? String(err));
      deps.logger.error("fleet command failed", { commandId, kind, code, reason });
      return { commandId, outcome: "failed", code, reason };
    }
  }

  return { handle };
}
