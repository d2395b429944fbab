/**
 * The updater's record as it moves: each step is saved (SQLite, durable) before the work it
 * names starts, announced as an event, and mirrored on the status LED (updating while busy).
 * Download progress is kept in memory at once and saved at the downloader's pace (once a second).
 */
import type { Clock } from "../../runtime/clock.ts";
import { isHearthError } from "../../runtime/errors.ts";
import { eventOf, PROGRESS_STEP, type OtaEvent } from "./events.ts";
import { isOtaAgentError } from "./errors.ts";
import { HealthCheckFailed } from "./health-check.ts";
import type { OtaStateStore } from "./state-store.ts";
import { BUSY_STATES, type OtaProgress, type OtaReason, type OtaRecord, type OtaState } from "./state.ts";

export class OtaJournal {
  private current: OtaRecord;
  private lastStep = -1;

  constructor(
    private readonly store: OtaStateStore,
    private readonly clock: Clock,
    initial: OtaRecord,
    private readonly onEvent: (event: OtaEvent) => void = () => {},
    private readonly led: (updating: boolean) => void = () => {},
  ) {
    this.current = initial;
  }

  get record(): OtaRecord {
    return structuredClone(this.current);
  }

  get busy(): boolean {
    return BUSY_STATES.has(this.current.state);
  }

  /** Saves the change (a new state restarts `since`) and tells the fleet and the LED. */
  set(patch: Partial<OtaRecord>, persist = true): OtaRecord {
    const changed = patch.state !== undefined && patch.state !== this.current.state;
    this.current = { ...this.current, ...patch, ...(changed ? { since: new Date(this.clock.now()).toISOString() } : {}) };
    if (changed) this.lastStep = -1;
    if (persist) this.store.save(this.current);
    if (changed) {
      this.led(this.busy);
      this.emit("state");
    }
    return this.record;
  }

  /** Enters `state`; the progress is reset unless given. */
  enter(state: OtaState, patch: Partial<OtaRecord> = {}): OtaRecord {
    return this.set({ progress: null, ...patch, state });
  }

  /** A download's progress: saved, and an event each PROGRESS_STEP of the file. */
  progress(p: OtaProgress): void {
    this.set({ progress: p });
    const step = p.total > 0 ? Math.floor(p.bytes / p.total / PROGRESS_STEP) : 0;
    if (step > this.lastStep) {
      this.lastStep = step;
      this.emit("progress");
    }
  }

  emit(kind: OtaEvent["event"]): void {
    try {
      this.onEvent(eventOf(kind, this.current, this.clock.now()));
    } catch {
      // delivery is the telemetry's business; an update never fails on it
    }
  }
}

/** The stable code and message an error is recorded with. */
export function reasonOf(err: unknown): OtaReason {
  if (err instanceof HealthCheckFailed) return { code: err.reason, message: err.message };
  if (isOtaAgentError(err)) return { code: err.reason, message: err.message };
  if (isHearthError(err)) return { code: err.code, message: err.message };
  return { code: "internal", message: (err as Error)?.message ?? String(err) };
}
