/**
 * The box's update agent: checks the repository periodically (with jitter) and on demand,
 * installs what it finds (install.ts), rolls back by request (rollback.ts), and after a restart
 * finishes what the last run left (recover.ts at construction, resume() once the model serves).
 * One update at a time; its state lives in SQLite (journal.ts) and is reported as events.
 */
import type { Clock } from "../../runtime/clock.ts";
import type { Config } from "../../runtime/config/schema.ts";
import type { LoraSetting } from "../../runtime/engine/adapters.ts";
import { HearthError } from "../../runtime/errors.ts";
import type { EntitlementGate } from "../../runtime/license/entitlements.ts";
import type { Logger } from "../../runtime/log.ts";
import type { Db } from "../../runtime/store/db.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../runtime/telemetry/timers.ts";
import type { CheckContext } from "./check.ts";
import type { Want } from "./decide.ts";
import { downloadSetup, type DownloadSeams } from "./download-setup.ts";
import type { FetchLike } from "./download.ts";
import type { OtaEvent } from "./events.ts";
import type { InstallEnv, InstallPoint } from "./install.ts";
import { OtaJournal, reasonOf } from "./journal.ts";
import { otaDir, OtaLines, servedAdapters, servedBase } from "./lines.ts";
import { recoverAtBoot } from "./recover.ts";
import type { Serving } from "./serving.ts";
import { OtaStateStore } from "./state-store.ts";
import type { OtaRecord } from "./state.ts";

export interface UpdaterDeps {
  config: Config["ota"];
  dataDir: string;
  db: Db;
  clock: Clock;
  logger: Logger;
  deviceId: string;
  groups: readonly string[];
  runtimeVersion: string;
  /** The license in force: its gate and the channel it gives (updateChannelFor). */
  license: () => Promise<{ gate: EntitlementGate; channel: string }>;
  /** Trusted time (license/trusted-time.ts), ms. */
  trustedNow: () => number;
  serving: Serving;
  fetch?: FetchLike;
  timers?: Timers;
  random?: () => number;
  /** The status LED's updating pattern. */
  led?: (updating: boolean) => void;
  onEvent?: (event: OtaEvent) => void;
  hook?: (point: InstallPoint) => void | Promise<void>;
  /** Download seams for tests: free space, back-off, attempts, stall timeout, progress cadence. */
  seams?: DownloadSeams;
}

export interface ApplyRequest {
  /** "name" or "name@version"; default: the channel's base model. */
  release?: string;
  /** A signed rollback command's version: an older release of that version may install. */
  allowRollbackTo?: string;
}

const HOUR_MS = 3_600_000;

/** The check, install and rollback code loads with the first update, not with the server (idle memory). */
const updateCode = () => Promise.all([import("./decide.ts"), import("./install.ts"), import("./rollback.ts")]);

export class Updater {
  readonly lines: OtaLines;
  private readonly store: OtaStateStore;
  private readonly journal: OtaJournal;
  private running: Promise<unknown> | null = null;
  private checking = false;
  private timer: TimerHandle | null = null;
  private readonly abort = new AbortController();
  private readonly timers: Timers;

  constructor(private readonly deps: UpdaterDeps) {
    this.timers = deps.timers ?? systemTimers;
    this.store = new OtaStateStore(deps.db, deps.clock);
    this.lines = new OtaLines(deps.dataDir, deps.clock, deps.logger);
    const record = recoverAtBoot(this.store, this.lines, deps.clock, deps.logger);
    this.journal = new OtaJournal(this.store, deps.clock, record, deps.onEvent, deps.led);
  }

  get enabled(): boolean {
    return this.deps.config.repo !== undefined && this.deps.config.releaseKeys.length > 0;
  }

  /** What serves at start: the OTA base model (null: the factory one) and the OTA adapters on it. */
  bootModels(): { modelPath: string | null; loras: LoraSetting[] } {
    const record = this.journal.record;
    const base = servedBase(this.lines, record);
    return { modelPath: base?.path ?? null, loras: servedAdapters(this.lines, record, base).map(({ path, scale }) => ({ path, scale })) };
  }

  /** The record, with `checking` while a check runs. */
  status(): OtaRecord {
    const record = this.journal.record;
    return this.checking && !this.journal.busy ? { ...record, state: "checking" } : record;
  }

  /** Checks the base model and the adapters followed; an update found is recorded, not installed. */
  async check(): Promise<OtaRecord> {
    await this.checkLines();
    return this.status();
  }

  /** Verifies and starts installing a release; resolves once it is refused or downloading. */
  async apply(req: ApplyRequest = {}): Promise<OtaRecord> {
    this.requireIdle();
    const [{ decide, lastCheckOf, NOTHING_TO_DO, parseRelease, planInstall, wantFor }, { install }] = await updateCode();
    const allowRollbackTo = req.allowRollbackTo;
    const plan = await this.withCheck(async (ctx) => {
      const want = await wantFor(ctx, this.lines, this.journal.record, req.release);
      const decision = await decide(ctx, this.lines, this.journal.record, want, allowRollbackTo);
      this.journal.set({ lastCheck: lastCheckOf(decision, this.deps.clock.now()) });
      if (!decision.ok) {
        if (NOTHING_TO_DO.has(decision.code)) throw new HearthError("release_rejected", decision.message);
        this.journal.enter("failed", { reason: { code: decision.code, message: decision.message } });
        return null;
      }
      const wanted = parseRelease(req.release).version;
      if (wanted && wanted !== decision.manifest.version) throw new HearthError("release_rejected", `the channel offers ${decision.manifest.name} ${decision.manifest.version}, not ${wanted}`, { field: "release" });
      try {
        return await planInstall(decision.manifest, this.deps.config.repo!, { fetch: this.fetch, choose: (paths) => this.deps.serving.require().choose(paths), tmpDir: otaDir(this.deps.dataDir), timeoutMs: this.fetchTimeoutMs });
      } catch (err) {
        this.journal.enter("failed", { release: null, reason: reasonOf(err) });
        return null;
      }
    });
    if (!plan) return this.status();
    this.journal.set({ allowRollbackTo: allowRollbackTo ?? null });
    this.running = install(this.installEnv(), plan)
      .catch(() => undefined) // recorded by install
      .finally(() => (this.running = null));
    return this.status();
  }

  /** Waits for the install under way, if any (tests, the CLI's --wait, shutdown). */
  async settled(): Promise<OtaRecord> {
    await this.running;
    return this.status();
  }

  async rollback(opts: { adapter?: string } = {}): Promise<OtaRecord> {
    this.requireIdle();
    const factoryPath = this.deps.serving.require().factoryPath;
    const [, , { rollback }] = await updateCode();
    const work = rollback({ lines: this.lines, serving: this.deps.serving, journal: this.journal, healthCheckTimeoutMs: this.deps.config.healthCheckTimeoutMs, factoryPath }, opts.adapter);
    this.running = work.catch(() => undefined).finally(() => (this.running = null));
    await work;
    return this.status();
  }

  /** Once the model serves: resumes an interrupted install and starts the periodic checks. */
  start(): void {
    const r = this.journal.record;
    if (this.enabled && r.release && (r.state === "downloading" || r.state === "verifying" || r.state === "staged")) {
      this.deps.logger.info("ota: resuming the interrupted update", { release: `${r.release.name} ${r.release.version}`, state: r.state });
      void this.apply({ release: `${r.release.name}@${r.release.version}`, allowRollbackTo: r.allowRollbackTo ?? undefined }).catch((err: Error) => {
        // Not left "downloading" with nothing running: a later apply resumes the partial.
        this.deps.logger.warn("ota: the interrupted update did not resume", { error: err.message });
        if (!this.running) this.journal.enter("failed", { reason: reasonOf(err) });
      });
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort(new HearthError("model_unavailable", "the runtime is stopping"));
    await this.running;
  }

  private schedule(): void {
    const minutes = this.deps.config.checkIntervalMinutes;
    if (!this.enabled || minutes === 0 || this.abort.signal.aborted) return;
    const jitter = 0.9 + 0.2 * (this.deps.random ?? Math.random)();
    this.timer = this.timers.setTimeout(() => void this.periodic().finally(() => this.schedule()), Math.min(minutes * 60_000 * jitter, 24 * HOUR_MS));
  }

  private async periodic(): Promise<void> {
    if (this.running || this.checking) return;
    try {
      const found = await this.checkLines();
      const skip = this.journal.record.skip;
      const next = found.find((f) => !(skip && skip.name === f.name && skip.version === f.version));
      if (next && this.deps.config.autoApply) await this.apply({ release: `${next.name}@${next.version}` });
    } catch (err) {
      this.deps.logger.warn("ota: periodic check failed", { error: (err as Error).message });
    }
  }

  /** Checks every line; records the first release found (else the base model's outcome) as lastCheck. */
  private async checkLines(): Promise<{ name: string; version: string }[]> {
    const [{ decide, lastCheckOf }] = await updateCode();
    return this.withCheck(async (ctx) => {
      const wants: Want[] = [{ kind: "base-model" }, ...this.deps.config.adapters.map((name) => ({ kind: "lora" as const, name }))];
      const found: { name: string; version: string }[] = [];
      let last = null;
      for (const want of wants) {
        const decision = await decide(ctx, this.lines, this.journal.record, want);
        const outcome = lastCheckOf(decision, this.deps.clock.now());
        if (decision.ok) found.push({ name: decision.manifest.name, version: decision.manifest.version });
        if (!last || (outcome.outcome !== "up-to-date" && last.outcome === "up-to-date")) last = outcome;
      }
      this.journal.set({ lastCheck: last });
      this.journal.emit("check");
      return found;
    });
  }

  /** Runs `work` with a check context; network trouble is recorded in lastCheck and rethrown. */
  private async withCheck<T>(work: (ctx: CheckContext) => Promise<T>): Promise<T> {
    if (!this.enabled) throw new HearthError("not_implemented", "over-the-air updates are not configured on this box: set ota.repo and ota.releaseKeys");
    if (this.checking) throw new HearthError("conflict", "a check is already running");
    this.checking = true;
    try {
      const license = await this.deps.license();
      const c = this.deps.config;
      const device = { id: this.deps.deviceId, groups: this.deps.groups, channel: c.channel ?? license.channel, gate: license.gate, runtimeVersion: this.deps.runtimeVersion };
      const ctx: CheckContext = { fetch: this.fetch, repoUrl: c.repo!, pinnedKeys: c.releaseKeys, store: this.store, device, now: this.deps.trustedNow(), timeoutMs: this.fetchTimeoutMs };
      return await work(ctx);
    } catch (err) {
      if (!(err instanceof HearthError) || err.code === "download_failed") {
        this.journal.set({ lastCheck: { at: new Date(this.deps.clock.now()).toISOString(), outcome: "error", release: null, reason: reasonOf(err) } });
      }
      throw err;
    } finally {
      this.checking = false;
    }
  }

  /** A busy state with nothing running is an update a restart interrupted: it may be resumed. */
  private requireIdle(): void {
    if (this.running || this.checking) throw new HearthError("conflict", `an update is under way (${this.journal.record.state}); wait for it to finish`);
  }

  private get fetch(): FetchLike {
    return this.deps.fetch ?? ((url, init) => fetch(url, init));
  }

  private get fetchTimeoutMs(): number {
    return this.deps.seams?.fetchTimeoutMs ?? 30_000;
  }

  private installEnv(): InstallEnv {
    const { config, logger } = this.deps;
    return {
      lines: this.lines,
      serving: this.deps.serving,
      journal: this.journal,
      logger,
      healthCheckTimeoutMs: config.healthCheckTimeoutMs,
      hook: this.deps.hook ?? (() => {}),
      download: downloadSetup(config, { ...this.deps, fetch: this.fetch, timers: this.timers, signal: this.abort.signal }),
    };
  }
}
