/**
 * Semantic Versioning 2.0.0: parsing, precedence (build metadata ignored, a pre-release sorts
 * before its release) and ranges for the base a LoRA adapter applies to. Ranges are the common
 * subset of npm's: comparators `=`, `>`, `>=`, `<`, `<=`, caret `^1.2.3`, tilde `~1.2.3` and `*`,
 * space-separated (all must hold), alternatives separated by `||`. Pre-releases compare by
 * precedence only (npm's extra pre-release rule is not applied).
 */
import { SEMVER_PATTERN } from "../schema/common.ts";

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  prerelease: (string | number)[];
}

const SEMVER = new RegExp(SEMVER_PATTERN);

export function parseSemver(text: string): Semver | null {
  const m = SEMVER.exec(text);
  if (!m) return null;
  const prerelease = m[4] ? m[4].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return null;
  return { major, minor, patch, prerelease };
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return Math.sign(a - b);
  if (typeof a === "number") return -1; // numeric identifiers sort before alphanumeric ones
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as `a` has lower, equal or higher precedence than `b`. */
export function compareSemver(a: Semver, b: Semver): number {
  const core = Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch);
  if (core !== 0) return core;
  // A release outranks its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    if (i >= a.prerelease.length) return -1;
    if (i >= b.prerelease.length) return 1;
    const c = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** compareSemver on strings; throws a TypeError for text that is not semver (schemas check it first). */
export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [parseSemver(a), parseSemver(b)];
  if (!pa || !pb) throw new TypeError(`not a semantic version: ${JSON.stringify(pa ? b : a)}`);
  return compareSemver(pa, pb);
}

type Comparator = (v: Semver) => boolean;

const OPS: Record<string, (c: number) => boolean> = { "=": (c) => c === 0, ">": (c) => c > 0, ">=": (c) => c >= 0, "<": (c) => c < 0, "<=": (c) => c <= 0 };

function comparator(token: string): Comparator | null {
  if (token === "*" || token === "x") return () => true;
  const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(token)!;
  const op = m[1] ?? "=";
  const v = parseSemver(m[2]!);
  if (!v) return null;
  if (op === "^" || op === "~") {
    // ^: same left-most non-zero part; ~: same major and minor.
    const upper: Semver =
      op === "~" ? { major: v.major, minor: v.minor + 1, patch: 0, prerelease: [] }
      : v.major > 0 ? { major: v.major + 1, minor: 0, patch: 0, prerelease: [] }
      : v.minor > 0 ? { major: 0, minor: v.minor + 1, patch: 0, prerelease: [] }
      : { major: 0, minor: 0, patch: v.patch + 1, prerelease: [] };
    return (x) => compareSemver(x, v) >= 0 && compareSemver(x, upper) < 0;
  }
  const test = OPS[op]!;
  return (x) => test(compareSemver(x, v));
}

/** A range as a predicate, or null when the text is not a range this module reads. */
export function parseRange(text: string): ((version: Semver) => boolean) | null {
  const alternatives: Comparator[][] = [];
  for (const part of text.split("||")) {
    const tokens = part.trim().split(/\s+/).filter((t) => t !== "");
    if (tokens.length === 0) return null;
    const comparators = tokens.map(comparator);
    if (comparators.some((c) => c === null)) return null;
    alternatives.push(comparators as Comparator[]);
  }
  return (v) => alternatives.some((all) => all.every((c) => c(v)));
}

/** Whether `version` is in `range`; false when either does not parse. */
export function satisfies(version: string, range: string): boolean {
  const v = parseSemver(version);
  const r = parseRange(range);
  return v !== null && r !== null && r(v);
}
