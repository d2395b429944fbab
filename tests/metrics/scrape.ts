/**
 * Reads a scrape back for assertions: samples with their labels (unescaped) and value, and the
 * HELP/TYPE declared per family. Strict: a line it cannot read fails the test.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

const unescape = (v: string) => v.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  if (text.trim() === "" || Number.isNaN(n)) throw new Error(`not a sample value: ${text}`);
  return n;
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const m = LABEL.exec(body);
    if (!m) throw new Error(`unreadable labels: {${body}}`);
    labels[m[1]!] = unescape(m[2]!);
  }
  return labels;
}

export function parseScrape(text: string): Scrape {
  const scrape: Scrape = { samples: [], types: new Map(), help: new Map() };
  if (!text.endsWith("\n")) throw new Error("a scrape ends with a line feed");
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = line.match(/^# (HELP|TYPE) (\S+) (.*)$/);
    if (meta) {
      (meta[1] === "HELP" ? scrape.help : scrape.types).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = line.match(SAMPLE);
    if (!m) throw new Error(`unreadable line: ${line}`);
    scrape.samples.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2]) : {}, value: parseValue(m[3]!) });
  }
  return scrape;
}

/** Samples of `name` whose labels include `labels`. */
export function find(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` with exactly these labels' values (others may exist); throws when not exactly one. */
export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = find(scrape, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

/** Every series appears once: promtool 2.42 does not catch a duplicate. */
export function duplicateSeries(scrape: Scrape): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const s of scrape.samples) {
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    if (seen.has(key)) dups.push(key);
    seen.add(key);
  }
  return dups;
}
