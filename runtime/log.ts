/**
 * Structured logs as JSON lines. Callers pass fields explicitly; prompts, completions and keys are
 * never passed, so they can never be logged.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  time: string;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** The most recent records in memory (the admin API's logs): a fixed-size ring, oldest overwritten. */
export class LogRing {
  private readonly records: (LogRecord | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity = 1000) {
    this.records = new Array(capacity);
  }

  push(record: LogRecord): void {
    this.records[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Up to `limit` records, oldest first. */
  recent(limit = this.capacity): LogRecord[] {
    const n = Math.min(limit, this.count);
    const out: LogRecord[] = [];
    for (let i = n; i > 0; i--) out.push(this.records[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void; now?: () => number; ring?: LogRing } = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = opts.now ?? Date.now;
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (RANK[level] < min) return;
    const time = new Date(now()).toISOString();
    write(JSON.stringify({ time, level, msg, ...fields }));
    opts.ring?.push({ time, level, msg, fields: { ...fields } });
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** `logger`, also recording into `ring` everything it is given (for servers whose logger was made without a ring). */
export function teeLogger(logger: Logger, ring: LogRing, now: () => number = Date.now): Logger {
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    logger[level](msg, fields);
    ring.push({ time: new Date(now()).toISOString(), level, msg, fields: { ...fields } });
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
