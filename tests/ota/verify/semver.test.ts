import { describe, expect, test } from "bun:test";
import { compareVersions, parseSemver, satisfies } from "../../../ota/verify/semver.ts";

describe("semantic versions", () => {
  test("precedence as SemVer 2.0.0 §11 orders its own example", () => {
    const ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0"];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!)).toBe(-1);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
    expect(compareVersions("1.2.3+build.5", "1.2.3")).toBe(0);
  });

  test("not semver: leading zeros, missing parts, v prefix", () => {
    for (const text of ["01.2.3", "1.2", "v1.2.3", "1.2.3-", "1.2.3-01", ""]) expect(parseSemver(text)).toBeNull();
    expect(() => compareVersions("1.2", "1.2.0")).toThrow(TypeError);
  });

  test("ranges: exact, comparators, caret, tilde, star, alternatives", () => {
    const cases: [string, string, boolean][] = [
      ["1.2.3", "1.2.3", true],
      ["1.2.4", "1.2.3", false],
      ["1.5.0", ">=1.2.0 <2.0.0", true],
      ["2.0.0", ">=1.2.0 <2.0.0", false],
      ["1.9.9", "^1.2.0", true],
      ["2.0.0", "^1.2.0", false],
      ["0.2.9", "^0.2.3", true],
      ["0.3.0", "^0.2.3", false],
      ["0.0.3", "^0.0.3", true],
      ["0.0.4", "^0.0.3", false],
      ["1.2.9", "~1.2.3", true],
      ["1.3.0", "~1.2.3", false],
      ["7.0.0", "*", true],
      ["3.0.0", "^1.0.0 || ^3.0.0", true],
      ["2.0.0", "^1.0.0 || ^3.0.0", false],
    ];
    for (const [version, range, expected] of cases) expect([version, range, satisfies(version, range)]).toEqual([version, range, expected]);
  });

  test("a range that does not parse is satisfied by nothing", () => {
    for (const range of ["", "latest", ">=1.2", "1.2.3 ||", "=>1.0.0"]) expect(satisfies("1.2.3", range)).toBe(false);
  });
});
