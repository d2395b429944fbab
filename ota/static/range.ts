/**
 * HTTP byte ranges (RFC 9110 §14): parsing a Range header against a file's size. A header that
 * does not parse is ignored (the whole file is sent, as the RFC allows); one whose every range
 * starts past the end is unsatisfiable (416).
 */

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** More ranges than this in one request are treated as no Range at all (a cheap guard against abuse). */
export const MAX_RANGES = 16;

export type RangeRequest = { kind: "none" } | { kind: "unsatisfiable" } | { kind: "ranges"; ranges: ByteRange[] };

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "none" };
  const m = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!m) return { kind: "none" };
  const specs = m[1]!.split(",").filter((s) => s.trim() !== "");
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: "none" };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const parts = SPEC.exec(spec);
    if (!parts || (parts[1] === "" && parts[2] === "")) return { kind: "none" };
    const [first, last] = [parts[1] === "" ? null : Number(parts[1]), parts[2] === "" ? null : Number(parts[2])];
    if (first === null) {
      // bytes=-N: the last N bytes.
      if (last! > 0 && size > 0) ranges.push({ start: Math.max(0, size - last!), end: size - 1 });
      continue;
    }
    if (last !== null && last < first) return { kind: "none" };
    if (first < size) ranges.push({ start: first, end: Math.min(last ?? size - 1, size - 1) });
  }
  return ranges.length === 0 ? { kind: "unsatisfiable" } : { kind: "ranges", ranges };
}
