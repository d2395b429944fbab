import { describe, expect, test } from "bun:test";
import { Registry } from "../../runtime/metrics/registry.ts";
import { escapeHelp, escapeLabelValue, formatValue } from "../../runtime/metrics/exposition.ts";
import { duplicateSeries, find, parseScrape, value } from "./scrape.ts";
import { promtoolCheck } from "./promtool.ts";

describe("exposition", () => {
  test("label values escape backslash, double quote and line feed, and read back unchanged", async () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue("plain ünïcode ✓")).toBe("plain ünïcode ✓");
    const registry = new Registry();
    const tricky = ['back\\slash', 'say "hi"', "two\nlines", "", "{braces},=", "\\n literally"];
    const c = registry.counter("hearth_tricky_total", "Tricky label values", ["name"]);
    tricky.forEach((name, i) => c.inc([name], i + 1));
    const text = registry.render();
    const scrape = parseScrape(text);
    tricky.forEach((name, i) => expect(value(scrape, "hearth_tricky_total", { name })).toBe(i + 1));
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });

  test("HELP escapes backslash and line feed only", () => {
    expect(escapeHelp('a\\b\n"c"')).toBe('a\\\\b\\n"c"');
    const registry = new Registry();
    registry.counter("hearth_x_total", "first line\nsecond \\ line");
    expect(registry.render()).toBe("# HELP hearth_x_total first line\\nsecond \\\\ line\n# TYPE hearth_x_total counter\n");
  });

  test("values: integers, decimals and the specials as Go parses them", () => {
    expect([0, 42, 0.25, 1e21, 1e-7, NaN, Infinity, -Infinity].map(formatValue)).toEqual(["0", "42", "0.25", "1e+21", "1e-7", "NaN", "+Inf", "-Inf"]);
  });
});

describe("histograms", () => {
  test("buckets are cumulative, le is inclusive, +Inf equals the count and sum adds up", async () => {
    const registry = new Registry();
    const h = registry.histogram("hearth_wait_seconds", "Waits", ["model"], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 1, 3, 11, 500]) h.observe(["m"], v);
    h.observe(["other"], 2);
    const text = registry.render();
    const scrape = parseScrape(text);
    const bucket = (le: string, model = "m") => value(scrape, "hearth_wait_seconds_bucket", { model, le });
    expect([bucket("0.1"), bucket("1"), bucket("10"), bucket("+Inf")]).toEqual([2, 4, 5, 7]);
    expect(value(scrape, "hearth_wait_seconds_count", { model: "m" })).toBe(7);
    expect(value(scrape, "hearth_wait_seconds_sum", { model: "m" })).toBeCloseTo(0.05 + 0.1 + 0.5 + 1 + 3 + 11 + 500, 10);
    expect([bucket("0.1", "other"), bucket("1", "other"), bucket("10", "other"), bucket("+Inf", "other")]).toEqual([0, 0, 1, 1]);
    // Buckets are written in increasing order of le, ending with +Inf.
    expect(find(scrape, "hearth_wait_seconds_bucket", { model: "m" }).map((s) => s.labels.le)).toEqual(["0.1", "1", "10", "+Inf"]);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });

  test("bad bucket lists and the reserved le label are refused", () => {
    const registry = new Registry();
    expect(() => registry.histogram("hearth_a_seconds", "x", [], [])).toThrow(/buckets/);
    expect(() => registry.histogram("hearth_b_seconds", "x", [], [1, 1])).toThrow(/increasing/);
    expect(() => registry.histogram("hearth_c_seconds", "x", [], [1, Infinity])).toThrow(/finite/);
    expect(() => registry.histogram("hearth_d_seconds", "x", ["le"], [1])).toThrow(/reserved/);
  });
});

describe("label sets", () => {
  test("each distinct set of label values is one series; the same set accumulates", () => {
    const registry = new Registry();
    const c = registry.counter("hearth_requests_total", "Requests", ["endpoint", "status"]);
    c.inc(["chat", "200"]);
    c.inc(["chat", "200"], 2);
    c.inc(["chat", "429"]);
    c.inc(["embeddings", "200"]);
    // Values that would collide if joined naively stay apart.
    c.inc(["a,b", "c"]);
    c.inc(["a", "b,c"]);
    const scrape = parseScrape(registry.render());
    expect(value(scrape, "hearth_requests_total", { endpoint: "chat", status: "200" })).toBe(3);
    expect(value(scrape, "hearth_requests_total", { endpoint: "chat", status: "429" })).toBe(1);
    expect(value(scrape, "hearth_requests_total", { endpoint: "a,b", status: "c" })).toBe(1);
    expect(value(scrape, "hearth_requests_total", { endpoint: "a", status: "b,c" })).toBe(1);
    expect(find(scrape, "hearth_requests_total")).toHaveLength(5);
    expect(duplicateSeries(scrape)).toEqual([]);
  });

  test("wrong label counts, bad names, twice-registered families and negative increments throw", () => {
    const registry = new Registry();
    const c = registry.counter("hearth_x_total", "x", ["a"]);
    expect(() => c.inc([])).toThrow(/1 labels/);
    expect(() => c.inc(["1", "2"])).toThrow(/2 label values/);
    expect(() => c.inc(["1"], -1)).toThrow(/only goes up/);
    expect(() => c.inc(["1"], NaN)).toThrow(/only goes up/);
    expect(() => registry.counter("hearth_x_total", "again")).toThrow(/twice/);
    expect(() => registry.counter("hearth-bad", "x")).toThrow(/invalid metric name/);
    expect(() => registry.counter("hearth_y_total", "x", ["__reserved"])).toThrow(/invalid label name/);
    expect(() => registry.counter("hearth_z_total", "x", ["bad-label"])).toThrow(/invalid label name/);
    // A refused increment leaves nothing behind.
    expect(find(parseScrape(registry.render()), "hearth_x_total")).toEqual([]);
  });

  test("gauges are read at scrape time; a family without samples keeps HELP and TYPE; a repeated series is written once", async () => {
    const registry = new Registry();
    let depth = 3;
    let zones: [string, number][] = [];
    registry.gauge("hearth_depth", "Depth", [], (emit) => emit([], depth));
    registry.gauge("hearth_zone_celsius", "Zones", ["zone"], (emit) => zones.forEach(([z, c]) => emit([z], c)));
    let scrape = parseScrape(registry.render());
    expect(value(scrape, "hearth_depth")).toBe(3);
    expect(find(scrape, "hearth_zone_celsius")).toEqual([]);
    expect(scrape.types.get("hearth_zone_celsius")).toBe("gauge");
    depth = 5;
    zones = [["cpu", 50.5], ["gpu", 48], ["cpu", 99]];
    const text = registry.render();
    scrape = parseScrape(text);
    expect(value(scrape, "hearth_depth")).toBe(5);
    expect(value(scrape, "hearth_zone_celsius", { zone: "cpu" })).toBe(50.5);
    expect(find(scrape, "hearth_zone_celsius")).toHaveLength(2);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});
