/**
 * Stacked bar chart drawn as inline SVG at the container's pixel width (so text stays legible on a
 * phone) and redrawn when that width changes. The same numbers are offered as a table.
 */
import { h, s, uid } from "./dom.ts";
import { count, day, short } from "./format.ts";
import type { UsageDay } from "./types.ts";

export interface Series {
  name: string;
  /** CSS class giving the bars their colour (see styles/chart.css). */
  tone: "a" | "b" | "c";
  values: number[];
}

export interface ChartData {
  title: string;
  labels: string[];
  series: Series[];
}

const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 28, left: 44 };

/** A round step giving about four gridlines up to max. */
export function niceStep(max: number): number {
  if (max <= 0) return 1;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10;
  return Math.max(1, unit * power);
}

function draw(data: ChartData, width: number, titleId: string, descId: string): SVGSVGElement {
  const totals = data.labels.map((_, i) => data.series.reduce((sum, ser) => sum + (ser.values[i] ?? 0), 0));
  const step = niceStep(Math.max(0, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(0, ...totals) / step) * step);
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, data.labels.length);
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(data.labels.length / Math.max(1, Math.floor(plotW / 56))));

  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(s("line", { class: "grid", x1: PAD.left, x2: PAD.left + plotW, y1: y(v), y2: y(v) }));
    grid.push(s("text", { class: "axis", x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, short(v)));
  }
  const bars = data.labels.map((label, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    const parts = data.series.map((ser) => {
      const v = ser.values[i] ?? 0;
      const rect = s("rect", { class: `bar tone-${ser.tone}`, x, y: y(base + v), width: barW, height: Math.max(0, y(base) - y(base + v)) }, s("title", null, `${label} · ${ser.name}: ${count(v)}`));
      base += v;
      return rect;
    });
    const tick = i % labelEvery === 0 ? s("text", { class: "axis", x: x + barW / 2, y: HEIGHT - 8, "text-anchor": "middle" }, label) : null;
    return s("g", null, parts, tick);
  });
  return s(
    "svg",
    { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, data.title),
    s("desc", { id: descId }, describe(data, totals)),
    grid,
    bars,
  );
}

function describe(data: ChartData, totals: number[]): string {
  const sum = totals.reduce((a, b) => a + b, 0);
  const first = data.labels[0] ?? "";
  const last = data.labels[data.labels.length - 1] ?? "";
  return data.labels.length === 0 ? "No data yet." : `${count(sum)} in total from ${first} to ${last}; highest ${count(Math.max(...totals))}.`;
}

function table(data: ChartData): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Period"), data.series.map((ser) => h("th", { scope: "col", class: "num" }, ser.name)))),
      h("tbody", null, data.labels.map((label, i) => h("tr", null, h("th", { scope: "row" }, label), data.series.map((ser) => h("td", { class: "num" }, count(ser.values[i] ?? 0)))))),
    ),
  );
}

export function barChart(data: ChartData): HTMLElement {
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const canvas = h("div", { class: "chart-canvas" });
  const legend = h("ul", { class: "legend" }, data.series.map((ser) => h("li", null, h("span", { class: `swatch tone-${ser.tone}`, "aria-hidden": "true" }), ser.name)));
  let drawnWidth = -1;
  const redraw = () => {
    const width = Math.floor(canvas.clientWidth);
    if (width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    canvas.replaceChildren(draw(data, width, titleId, descId));
  };
  new ResizeObserver(redraw).observe(canvas);
  const empty = data.labels.length === 0 ? h("p", { class: "muted" }, "No data yet.") : null;
  return h("figure", { class: "chart" }, h("figcaption", null, data.title), empty ?? [canvas, legend], h("details", null, h("summary", null, "Show as a table"), table(data)));
}

/** Prompt and completion tokens per day, stacked: the dashboard's, the usage screen's and each key's chart. */
export function tokensChart(perDay: UsageDay[], title: string): HTMLElement {
  return barChart({
    title,
    labels: perDay.map((d) => day(d.date)),
    series: [
      { name: "Prompt tokens", tone: "a", values: perDay.map((d) => d.promptTokens) },
      { name: "Completion tokens", tone: "b", values: perDay.map((d) => d.completionTokens) },
    ],
  });
}
