/**
 * A small metrics registry written out in the Prometheus text exposition format 0.0.4. Counters
 * and histograms are updated on the request path; gauges are read at scrape time from a collect
 * callback, so values owned elsewhere (slots, outbox, health) are never copied or sampled twice.
 * Series are keyed by the JSON of their label values: unambiguous whatever a value holds.
 */
import { formatSample, helpLines } from "./exposition.ts";

/** Label values in the order of the family's label names. */
export type LabelValues = readonly string[];

const keyOf = (values: LabelValues): string => JSON.stringify(values);

interface Family {
  readonly name: string;
  render(out: string[]): void;
}

abstract class Base implements Family {
  constructor(
    readonly name: string,
    protected readonly help: string,
    protected readonly labelNames: readonly string[],
    private readonly type: "counter" | "gauge" | "histogram",
  ) {
    for (const label of labelNames) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label) || label.startsWith("__")) throw new Error(`${name}: invalid label name ${JSON.stringify(label)}`);
    }
  }

  render(out: string[]): void {
    out.push(...helpLines(this.name, this.help, this.type));
    this.samples(out);
  }

  protected abstract samples(out: string[]): void;

  protected check(values: LabelValues): void {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: ${values.length} label values for ${this.labelNames.length} labels (${this.labelNames.join(", ")})`);
    }
  }
}

export class Counter extends Base {
  private readonly series = new Map<string, { values: LabelValues; value: number }>();

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter");
  }

  inc(values: LabelValues = [], by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    const key = keyOf(values);
    const s = this.series.get(key);
    if (s) s.value += by;
    else {
      this.check(values);
      this.series.set(key, { values: [...values], value: by });
    }
  }

  protected samples(out: string[]): void {
    for (const s of this.series.values()) out.push(formatSample(this.name, this.labelNames, s.values, s.value));
  }
}

/** Emits one sample; called by a gauge's collect callback for each series it has right now. */
export type Emit = (values: LabelValues, value: number) => void;

export class Gauge extends Base {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly collect: (emit: Emit) => void,
  ) {
    super(name, help, labelNames, "gauge");
  }

  protected samples(out: string[]): void {
    // Two samples with the same labels would make the scrape invalid: the first one wins.
    const seen = new Set<string>();
    this.collect((values, value) => {
      this.check(values);
      const key = keyOf(values);
      if (seen.has(key)) return;
      seen.add(key);
      out.push(formatSample(this.name, this.labelNames, values, value));
    });
  }
}

interface HistogramSeries {
  values: LabelValues;
  /** Per bucket, not cumulative (cumulated when written); the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram extends Base {
  private readonly series = new Map<string, HistogramSeries>();
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames, "histogram");
    if (labelNames.includes("le")) throw new Error(`${name}: "le" is reserved for histogram buckets`);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`${name}: buckets must be finite and strictly increasing`);
    }
    this.buckets = [...buckets];
  }

  observe(values: LabelValues, value: number): void {
    const key = keyOf(values);
    let s = this.series.get(key);
    if (!s) {
      this.check(values);
      s = { values: [...values], counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  protected samples(out: string[]): void {
    const bucketLabels = [...this.labelNames, "le"];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.buckets.length ? String(this.buckets[i]) : "+Inf";
        out.push(formatSample(`${this.name}_bucket`, bucketLabels, [...s.values, le], cumulative));
      }
      out.push(formatSample(`${this.name}_sum`, this.labelNames, s.values, s.sum));
      out.push(formatSample(`${this.name}_count`, this.labelNames, s.values, s.count));
    }
  }
}

export class Registry {
  private readonly families: Family[] = [];
  private readonly names = new Set<string>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[], collect: (emit: Emit) => void): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The whole scrape, ending with a newline as the format requires. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families) f.render(out);
    return out.join("\n") + "\n";
  }

  private add<F extends Family>(family: F): F {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) throw new Error(`invalid metric name ${JSON.stringify(family.name)}`);
    if (this.names.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.names.add(family.name);
    this.families.push(family);
    return family;
  }
}
