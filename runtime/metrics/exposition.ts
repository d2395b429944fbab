/**
 * The Prometheus text exposition format, version 0.0.4: escaping and sample lines.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

/** HELP text escapes backslash and line feed (a double quote stays as it is). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (ch) => (ch === "\n" ? "\\n" : "\\\\"));
}

/** Go's ParseFloat syntax: integers and decimals as JavaScript writes them, and the three specials. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export function helpLines(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

export function formatSample(name: string, labelNames: readonly string[], values: readonly string[], value: number): string {
  if (labelNames.length === 0) return `${name} ${formatValue(value)}`;
  let labels = "";
  for (let i = 0; i < labelNames.length; i++) {
    if (i > 0) labels += ",";
    labels += `${labelNames[i]}="${escapeLabelValue(values[i]!)}"`;
  }
  return `${name}{${labels}} ${formatValue(value)}`;
}
