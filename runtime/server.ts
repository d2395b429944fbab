import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Llama } from "node-llama-cpp";
import type { Config } from "./config/schema.ts";
import type { Clock } from "./clock.ts";
import { LogRing, teeLogger, type Logger } from "./log.ts";
import { openDatabase, type Db } from "./store/db.ts";
import { ApiKeyStore } from "./store/api-keys.ts";
import { UsageLedger, type UsageLedgerOptions } from "./store/usage-ledger.ts";
import { ModelHost } from "./engine/model-host.ts";
import type { InferenceEngine } from "./engine/types.ts";
import { createApp } from "./http/app.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { CalibrationStore, type CalibratedSettings } from "./store/calibrations.ts";
import type { BoardReport } from "../board/index.ts";
import { loadOrCreateDeviceIdentity } from "./identity/device-key.ts";
import type { Fingerprint } from "./identity/fingerprint-format.ts";
import type { LicenseState } from "./license/state.ts";
import type { ThrottleReader } from "../board/index.ts";
import { Telemetry, type TelemetryDeps } from "./telemetry/telemetry.ts";
import { systemHealthSampler } from "./telemetry/health.ts";
import { unsupportedCommands } from "./telemetry/command-intake.ts";
import type { CommandProcessor } from "./telemetry/messages.ts";
import { createCommandProcessor } from "./fleet/commands/processor.ts";
import { licenseInstallHook } from "./fleet/commands/license-hook.ts";
import { startIdleTrimmer, trimResidentMemory } from "./memory/idle-trim.ts";
import { systemTimers } from "./telemetry/timers.ts";
import { createAdmin, type AdminControl, type AdminServerOptions } from "./admin/wire.ts";
import type { HealthCache } from "./admin/health-cache.ts";
import { startDeviceIo, type DeviceIo, type DeviceIoOptions, type StatusPins } from "./device-io/index.ts";
import { createOta, type Ota, type OtaCommandHooks, type OtaServerOptions } from "../ota/agent/wire.ts";
import type { OtaEvent } from "../ota/agent/events.ts";
import type { PrimaryModels } from "../ota/agent/serving.ts";
import pkg from "../package.json" with { type: "json" };

export interface RunningServer {
  url: string;
  port: number;
  models: ModelHost;
  /** Resolves when the model is loaded; rejects with the reason it could not be. */
  ready: Promise<InferenceEngine>;
  /** Resolves when the extra models (config `models`) are served or refused; never rejects. */
  extras: Promise<void>;
  ledger: UsageLedger;
  /** The serving engine; throws while the model loads or after it failed. */
  readonly engine: InferenceEngine;
  db: Db;
  /** MQTT telemetry: status() (connected, outbox depth by channel) and flush(); started once the license is known. */
  telemetry: Telemetry;
  /** The local admin: a new pairing code (the button's short press) and factory reset (its long hold). */
  admin: AdminControl;
  /** The status LED and button; the OTA agent calls setUpdating(true/false) around applying an update. */
  deviceIo: DeviceIo;
  /** The OTA update agent: status, check, apply, rollback (ota/agent). */
  ota: Ota["updater"];
  /** Health sampled on an interval (admin status and /metrics read it; never sampled per request). */
  health: HealthCache;
  stop(): Promise<void>;
}

/** What a fleet command processor is built from, once the license (and so the fingerprint) is known. */
export interface CommandProcessorContext {
  config: Config;
  db: Db;
  dataDir: string;
  deviceId: string;
  fingerprint: Fingerprint;
  telemetry: Telemetry;
  clock: Clock;
  logger: Logger;
  /** The OTA agent's fleet command hooks (ota.check, ota.rollback). */
  ota?: OtaCommandHooks;
}

export interface ServerDeps {
  logger: Logger;
  clock: Clock;
  llama?: Llama;
  /** How long stop() waits for in-flight requests before closing their connections. */
  shutdownGraceMs?: number;
  /** Usage ledger options; default: chained, checkpoints signed by the device key every license.checkpointEvery. */
  ledger?: Omit<UsageLedgerOptions, "clock">;
  /** This box's hardware fingerprint, for the license; default: read from the live machine. */
  fingerprint?: () => Promise<Fingerprint>;
  /** Builds the fleet command processor; default: runtime/fleet/commands with this box's fleet keys. */
  commandProcessor?: (ctx: CommandProcessorContext) => CommandProcessor;
  /** Telemetry seams for tests: timers, reconnect jitter and back-off, the health sampler, the publish window. */
  telemetry?: Partial<Pick<TelemetryDeps, "timers" | "random" | "backoff" | "health" | "maxInFlight">>;
  /** The admin side: restart hook, OTA update service, console for pairing codes, log ring, test seams. */
  admin?: AdminServerOptions;
  /** OTA seams for tests (fetch, timers, download back-off, crash hooks) and the `/ota` event sink. */
  ota?: OtaServerOptions;
  /** LED and button seams for tests: the pins (default: the board profile's), a pin driver, timers, the sysfs root, the onoff loader. */
  deviceIo?: Partial<Pick<DeviceIoOptions, "pins" | "driver" | "timers" | "root" | "loadOnoff">>;
}

/** What loading found out that the server needs afterwards. */
interface Boot {
  license?: LicenseState;
  /** The board's throttle signal, once the board is detected (health snapshots read it). */
  throttle?: ThrottleReader;
  /** Loads the extra models (config `models`) once the primary serves. */
  startExtras?: () => Promise<void>;
  /** Called with the board's status pins once it is detected: the LED and button start then. */
  statusPins?: (pins: StatusPins) => void;
  /** For the admin status: the board detected and the primary model's memory fit. */
  board?: { kind: string; name: string };
  primaryFit?: Awaited<ReturnType<typeof import("./model/fit.ts").checkModelFits>>;
  /** What OTA recovery says serves at start (null modelPath: the factory model, config model.path). */
  otaModels?: { modelPath: string | null; loras: { path: string; scale: number }[] };
  /** The primary's loader for OTA swaps, once it serves. */
  primary?: PrimaryModels;
  /** The llama.cpp binding the server loaded (not a test's): disposed after every engine closed. */
  ownedLlama?: Llama;
}

export const DEMO_MODEL_FILE = "models/demo-tiny.gguf";

/** Without a configured model the box serves a generated demo model, so a fresh clone just runs. */
async function resolveModelPath(config: Config, logger: Logger): Promise<string> {
  if (config.model.path) return resolve(config.model.path);
  const demo = resolve(config.dataDir, DEMO_MODEL_FILE);
  if (!existsSync(demo)) {
    logger.info("no model configured; generating the demo model", { path: demo });
    const { synthesizeModel } = await import("./model/synth.ts");
    await synthesizeModel({ out: demo, params: "tiny", type: "f16", seed: 1, name: "demo-tiny" });
  }
  return demo;
}

/**
 * License → board → kernel build → fit check → calibrated settings → engine. llama.cpp's bindings
 * take a few hundred milliseconds to import, so all of this runs after the socket is open.
 */
async function loadEngine(config: Config, deps: ServerDeps, db: Db, models: ModelHost, boot: Boot, licensed: Promise<LoadedLicense>): Promise<InferenceEngine> {
  const [{ LlamaEngine }, { inspectHardware, fitTargetOf }, { loadKernel }, { smokeTest }, { checkModelFits, fitModel }, { planModels }, { state: license }, { createThrottleReader }] = await Promise.all([
    import("./engine/llama-engine.ts"),
    import("./hardware.ts"),
    import("../kernels/load.ts"),
    import("./engine/smoke-test.ts"),
    import("./model/fit.ts"),
    import("./engine/model-plan.ts"),
    licensed,
    import("../board/index.ts"),
  ]);
  const { gpuAllowance } = await import("./license/gpu-burst.ts");
  let gpuDenied: string | null = null;
  const { board, kernel: choice } = await inspectHardware({
    allowGpu: (board) => {
      const allowance = gpuAllowance(board, config.model.gpu, license.gate);
      gpuDenied = allowance.denied;
      return allowance.allowGpu;
    },
    logger: deps.logger,
  });
  if (gpuDenied) deps.logger.warn("GPU not used: the license does not allow it", { reason: gpuDenied });
  boot.throttle = createThrottleReader(board.profile.throttle);
  boot.statusPins?.({ ...board.profile.gpio, why: board.profile.reasons.gpio });
  boot.board = { kind: board.kind, name: board.name };
  const allowGpu = config.model.gpu && !gpuDenied;
  let llama = deps.llama;
  let kernel = { id: choice.id, backend: choice.backend as string, fallbackReason: gpuDenied as string | null };
  if (!llama) {
    const loaded = await loadKernel(choice, { logger: deps.logger, smokeTest });
    llama = loaded.llama;
    kernel = { id: loaded.active.id, backend: loaded.active.backend, fallbackReason: loaded.fallbackReason ?? gpuDenied };
  }
  if (!deps.llama) boot.ownedLlama = llama;
  // The factory model (config model.path) serves unless an OTA release was installed and committed.
  const factoryPath = await resolveModelPath(config, deps.logger);
  const otaLoras = boot.otaModels?.loras ?? [];
  const modelPath = boot.otaModels?.modelPath ?? factoryPath;
  const plan = planModels(config, modelPath);
  models.plan(plan);
  const target = fitTargetOf(board, allowGpu);
  if (config.model.memoryBudgetMB > 0) target.memoryBudgetBytes = config.model.memoryBudgetMB * 1024 * 1024;
  // Never start a model that would not fit: an OOM kill takes the whole box down.
  const fitOptions = { contextSize: config.model.contextSize, sequences: config.model.parallel };
  const primaryFit = await checkModelFits(modelPath, target, fitOptions, { llama });
  boot.primaryFit = primaryFit;
  const tunedFor = (path: string) => calibratedSettings(config, deps, db, { board, kernel: kernel.id, llama, modelPath: path });
  const shared = {
    threads: config.model.threads,
    gpu: allowGpu,
    embeddings: config.model.embeddings,
    chatWrapperFallback: config.model.chatWrapperFallback,
    logger: deps.logger,
    clock: deps.clock,
    kernel,
  };
  // The primary engine for a file: at start, and for OTA swaps. The server owns the binding (an
  // engine closed in a swap must not dispose what its successor runs on).
  const loadPrimary = async (path: string, loras: readonly { path: string; scale: number }[]) =>
    LlamaEngine.load({
      ...shared,
      modelPath: path,
      modelId: config.model.id,
      contextSize: config.model.contextSize,
      parallel: config.model.parallel,
      queueSize: config.model.queueSize,
      loras: [...config.model.loras, ...loras],
      permitAdapters: () => license.gate.require("lora_adapters", "Loading LoRA adapters"),
      llama,
      ownsLlama: false,
      tuned: await tunedFor(path),
    });
  const engine = await loadPrimary(modelPath, otaLoras);
  const { toMB } = await import("./model/fit/schema.ts");
  boot.primary = {
    path: modelPath,
    loras: otaLoras,
    fit: primaryFit,
    factoryPath,
    budgetMB: toMB(target.memoryBudgetBytes),
    fitOf: (path) => checkModelFits(path, target, fitOptions, { llama }),
    choose: (paths) => fitModel(paths, target, fitOptions, { llama }),
    load: loadPrimary,
  };
  boot.startExtras = async () => {
    const { loadExtraModels } = await import("./engine/model-set.ts");
    await loadExtraModels(models, plan, { gate: license.gate, target, primaryFit, engine: { ...shared, llama }, tunedFor });
  };
  return engine;
}

interface LoadedLicense {
  state: LicenseState;
  /** The fingerprint it was checked against (fleet license.install checks against it too). */
  fingerprint: Fingerprint;
}

/** The license in force, re-verified at every start against this box's fingerprint and trusted time. */
async function loadLicense(config: Config, deps: ServerDeps, db: Db): Promise<LoadedLicense> {
  const [{ loadLicenseState }, { collectFingerprint }] = await Promise.all([import("./license/state.ts"), import("./identity/fingerprint.ts")]);
  const device = deps.fingerprint ? await deps.fingerprint() : (await collectFingerprint()).fingerprint;
  const state = loadLicenseState({ dataDir: resolve(config.dataDir), db, config: config.license, device, clock: deps.clock });
  deps.logger.info("license", { tier: state.tier, reason: state.reason, license_id: state.license?.licenseId ?? null });
  for (const warning of state.warnings) deps.logger.warn("license", { warning });
  if (state.tier === "community" && state.reason !== "absent") deps.logger.warn("license not in force: Community features", { reason: state.message });
  return { state, fingerprint: device };
}

/**
 * The fleet command processor of runtime/fleet/commands, with this box's keys and hooks. A license
 * installed by command applies from the next start, as one installed with `hearth license install`.
 */
function defaultCommandProcessor(ctx: CommandProcessorContext): CommandProcessor {
  const { config } = ctx;
  return createCommandProcessor({
    db: ctx.db,
    deviceId: ctx.deviceId,
    fleet: config.telemetry.fleet,
    groups: config.telemetry.groups,
    fleetKeys: config.telemetry.fleetKeys,
    clock: ctx.clock,
    logger: ctx.logger,
    flush: async () => {
      const { usageSeq, audits, pending, delivered } = await ctx.telemetry.flush();
      return { usageSeq, audits, pending, delivered };
    },
    installLicense: licenseInstallHook({ dataDir: ctx.dataDir, db: ctx.db, config: config.license, device: ctx.fingerprint, clock: ctx.clock }),
    ota: ctx.ota,
  });
}

/** Stored settings for (board, kernel, model); measured now when missing and calibration.auto is on. */
async function calibratedSettings(
  config: Config,
  deps: ServerDeps,
  db: Db,
  what: { board: BoardReport; kernel: string; llama: Llama; modelPath: string },
): Promise<CalibratedSettings | null> {
  const { modelSha256 } = await import("./model/hash.ts");
  const key = { board: what.board.kind, kernel: what.kernel, modelSha256: await modelSha256(db, what.modelPath) };
  const stored = new CalibrationStore(db).find(key);
  if (stored) return stored.settings;
  if (!config.calibration.auto) return null;
  deps.logger.info("calibrating: no stored settings for this board, kernel build and model", key);
  const { runCalibration } = await import("./calibration/run.ts");
  const cert = await runCalibration(
    db,
    what.modelPath,
    {
      board: { kind: what.board.kind, name: what.board.name },
      kernel: { id: what.kernel, backend: what.llama.gpu || "cpu", cpuVariant: null },
      llama: what.llama,
      cores: what.board.cpu.performanceCores || what.board.cpu.cores || 1,
    },
    { clock: deps.clock, contextSize: config.model.contextSize },
  );
  deps.logger.info("calibrated", { ...cert.settings, tg_tok_s: Math.round(cert.tgTokPerSec), pp_tok_s: Math.round(cert.ppTokPerSec), ms: cert.durationMs });
  return cert.settings;
}

/** Opens the store, listens, then loads the model in the background (see ModelHost). */
export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  // The admin API's recent logs: serve's logger records into a ring kept across restarts; any other gets one here.
  const logs = deps.admin?.logs ?? new LogRing();
  if (!deps.admin?.logs) deps = { ...deps, logger: teeLogger(deps.logger, logs, deps.clock.now) };
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(dataDir);
  // Created on first start, never baked into an image: it signs the ledger's checkpoints.
  const identity = loadOrCreateDeviceIdentity(dataDir);
  const ledger = new UsageLedger(db, { signer: identity, checkpointEvery: config.license.checkpointEvery, ...deps.ledger, clock: deps.clock });
  const models = new ModelHost();
  const boot: Boot = {};
  const keys = new ApiKeyStore(db, deps.clock);
  const metrics = createMetrics({
    clock: deps.clock,
    version: pkg.version,
    models,
    keyName: (id) => keys.nameOf(id),
    // Read at scrape time, after admin and telemetry below exist (nothing is awaited in between).
    telemetry: () => telemetry.status(),
    health: () => admin.health.latest()?.snapshot ?? null,
    ota: () => ota.metrics(),
  });
  const licensed = loadLicense(config, deps, db);
  licensed.then(({ state }) => (boot.license = state)).catch(() => undefined);
  const earlyOtaEvents: OtaEvent[] = [];
  let sendOta = (e: OtaEvent) => void earlyOtaEvents.push(e);
  // Before the model loads: an update the last run left half-switched is rolled back first.
  const ota = createOta({
    config,
    db,
    dataDir,
    clock: deps.clock,
    logger: deps.logger,
    deviceId: identity.deviceId,
    runtimeVersion: pkg.version,
    models,
    licensed,
    primary: () => boot.primary ?? null,
    led: (updating) => deviceIo.setUpdating(updating),
    // Events before telemetry exists (a rollback at boot) wait for it; the outbox then keeps them.
    options: { ...deps.ota, onEvent: (e) => (deps.ota?.onEvent?.(e), sendOta(e)) },
  });
  boot.otaModels = ota.boot;
  const admin = createAdmin({
    db,
    clock: deps.clock,
    logger: deps.logger,
    logs,
    config,
    dataDir,
    deviceId: identity.deviceId,
    version: pkg.version,
    keys,
    models,
    box: () => ({ board: boot.board ?? null, license: boot.license ?? null, primaryFit: boot.primary?.fit ?? boot.primaryFit ?? null }),
    licensed,
    telemetry: () => telemetry.status(),
    sampler: deps.telemetry?.health ?? systemHealthSampler({ dataDir, throttle: () => boot.throttle ?? null }),
    options: { ...deps.admin, updates: deps.admin?.updates ?? ota.service },
  });
  // The LED shows booting from now; it and the button start once the board (its pins) is known.
  const statusPins = Promise.withResolvers<StatusPins>();
  boot.statusPins = statusPins.resolve;
  const deviceIo = startDeviceIo({
    pins: statusPins.promise,
    clock: deps.clock,
    logger: deps.logger,
    state: { model: () => models.status().state, busySlots: () => models.activity().busy },
    onShortPress: () => admin.control.newPairingCode(),
    onLongHold: () => admin.control.factoryReset(),
    ...deps.deviceIo,
  });
  const app = createApp({
    models,
    ledger,
    license: () => (boot.license ? { tier: boot.license.tier, reason: boot.license.reason } : null),
    keys,
    observer: metrics.observer,
    metrics: { render: metrics.render, countHttp: metrics.countHttp, access: config.metrics.access, verifyAdminToken: (token) => admin.auth.tokens.verify(token) !== null },
    clock: deps.clock,
    logger: deps.logger,
    maxTokens: config.model.maxTokens,
    openInference: config.auth.openInference,
    bodyLimitBytes: config.server.bodyLimitBytes,
    admin: admin.app,
  });
  const server = Bun.serve({
    hostname: config.server.host,
    port: config.server.port,
    fetch: app.fetch,
    // Bun's own cap is a backstop; the app's limit answers with a proper 413 body first.
    maxRequestBodySize: config.server.bodyLimitBytes * 4,
    // Long non-streamed generations are legitimately silent; 255 s is Bun's maximum.
    idleTimeout: 255,
  });
  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  deps.logger.info("listening", { url, data_dir: dataDir });
  ota.listening(url);

  const telemetry = startTelemetry(config, deps, { db, dataDir, deviceId: identity.deviceId, models, boot, licensed, ota: ota.commands });
  sendOta = (e) => void telemetry.otaEvent(e.event, e);
  for (const e of earlyOtaEvents.splice(0)) sendOta(e);
  const ready = models.load(() => loadEngine(config, deps, db, models, boot, licensed));
  ready.catch((err: Error) => deps.logger.error("model failed to load", { error: err.message }));
  const extras = ready.then(
    async () => {
      // Start-up's transient garbage (GGUF metadata, fit estimates) and the code only start-up ran
      // are given back at once, so a small box does not carry them (see runtime/memory).
      await trimResidentMemory();
      stopIdleTrim = startIdleTrimmer({ activity: () => ({ ...models.activity(), finished: ledger.recorded }), idleMs: config.server.idleTrimSeconds * 1000, clock: deps.clock, timers: systemTimers, logger: deps.logger });
      telemetry.announce();
      ota.start();
      await boot.startExtras?.();
      // The fleet sees the models this box serves in its retained state.
      if (boot.startExtras && config.models.length > 0) telemetry.announce();
    },
    () => undefined,
  );

  let stopped = false;
  let stopIdleTrim = () => {};
  // A box without an admin gets its pairing code now (logged and shown before start-up returns).
  await admin.start();
  return {
    url,
    port: server.port!,
    models,
    ready,
    extras,
    ledger,
    get engine() {
      return models.current();
    },
    db,
    telemetry,
    admin: admin.control,
    deviceIo,
    ota: ota.updater,
    health: admin.health,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // First, so no button action (a factory reset) starts while the box shuts down; the LED goes off.
      await deviceIo.stop();
      admin.stop();
      await ready.catch(() => undefined);
      stopIdleTrim();
      // Stop accepting, let running generations finish (they meter on the way out), then close
      // what is left, idle keep-alive connections included.
      void server.stop(false);
      const deadline = deps.clock.monotonic() + (deps.shutdownGraceMs ?? 10_000);
      while (deps.clock.monotonic() < deadline) {
        const { busy, queued } = models.activity();
        if (busy === 0 && queued === 0) break;
        await Bun.sleep(20);
      }
      await server.stop(true);
      await ota.stop();
      await models.close();
      await boot.ownedLlama?.dispose();
      // The records since the last checkpoint get a signed one before the process goes; telemetry
      // queues it with the last usage (sent at the next start), then says "offline" and disconnects.
      ledger.checkpoint();
      await telemetry.stop();
      db.close();
    },
  };
}

/**
 * Telemetry is built at once (RunningServer exposes it) and started when the license is known,
 * since the tier decides what it may send; the command processor is built at the same moment.
 */
function startTelemetry(
  config: Config,
  deps: ServerDeps,
  box: { db: Db; dataDir: string; deviceId: string; models: ModelHost; boot: Boot; licensed: Promise<LoadedLicense>; ota: OtaCommandHooks },
): Telemetry {
  const { db, dataDir, deviceId, models, boot } = box;
  let processor: CommandProcessor = unsupportedCommands;
  const telemetry = new Telemetry({
    config: config.telemetry,
    db,
    deviceId,
    clock: deps.clock,
    logger: deps.logger,
    license: () => ({ tier: boot.license?.tier ?? "community", licenseId: boot.license?.license?.licenseId ?? null }),
    version: pkg.version,
    models: () => models.served().map((e) => e.model.id),
    commands: { handle: (payload) => processor.handle(payload) },
    health: systemHealthSampler({ dataDir, throttle: () => boot.throttle ?? null }),
    ...deps.telemetry,
  });
  box.licensed.then(
    ({ fingerprint }) => {
      processor = (deps.commandProcessor ?? defaultCommandProcessor)({ config, db, dataDir, deviceId, fingerprint, telemetry, clock: deps.clock, logger: deps.logger, ota: box.ota });
      telemetry.start();
    },
    (err: Error) => deps.logger.error("telemetry not started: the license could not be read", { error: err.message }),
  );
  return telemetry;
}
