/**
 * The time of day downloads may run in (e.g. 01:00–05:00 local), read from the injected clock.
 * A window whose end is before its start wraps midnight (22:00–04:00); start == end means always.
 */
import { HearthError } from "../../runtime/errors.ts";

export interface TimeWindow {
  /** "HH:MM", local time, inclusive. */
  start: string;
  /** "HH:MM", local time, exclusive. */
  end: string;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

function minutesOf(hhmm: string, field: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new HearthError("invalid_request", `${field}: ${JSON.stringify(hhmm)} must be a time of day "HH:MM"`, { field });
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Checks the window's format up front, so a typo is refused before any download starts. */
export function parseWindow(w: TimeWindow): { start: number; end: number } {
  return { start: minutesOf(w.start, "window.start"), end: minutesOf(w.end, "window.end") };
}

/** Milliseconds from `nowMs` until the window opens: 0 while it is open. */
export function msUntilWindowOpens(w: TimeWindow, nowMs: number): number {
  const { start, end } = parseWindow(w);
  if (start === end) return 0;
  const d = new Date(nowMs);
  const minuteOfDay = d.getHours() * 60 + d.getMinutes();
  const open = start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (open) return 0;
  const minutesAhead = (start - minuteOfDay + DAY_MINUTES) % DAY_MINUTES;
  // Count from the start of the current minute: the window opens on the minute.
  const intoMinute = d.getSeconds() * 1000 + d.getMilliseconds();
  return Math.max(1, minutesAhead * MINUTE_MS - intoMinute);
}
