import { describe, expect, test } from "bun:test";
import { checkRollout, ROLLOUT_BUCKETS, rolloutBucket } from "../../../ota/verify/rollout.ts";

const ids = Array.from({ length: 10_000 }, (_, i) => `hd-synthetic-${i.toString(36).padStart(6, "0")}`);
const release = { name: "demo", version: "1.1.0" };
const inAt = (percent: number, version = "1.1.0") =>
  ids.filter((id) => checkRollout({ percent, groups: [] }, { id, groups: [] }, { ...release, version }).ok);

describe("rollout membership", () => {
  test("the bucket is stable for a (device, name, version) and within 0..9999", () => {
    const b = rolloutBucket("hd-1", "demo", "1.1.0");
    expect(rolloutBucket("hd-1", "demo", "1.1.0")).toBe(b);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(ROLLOUT_BUCKETS);
    // Pinned: sha256('["hd-test-device-1","demo","1.1.0"]') → first 4 bytes big-endian mod 10000,
    // as any other tool computes it; a change here would reshuffle every running rollout.
    expect(rolloutBucket("hd-test-device-1", "demo", "1.1.0")).toBe(746);
  });

  test("10,000 synthetic devices at 25% → 2,500 ± 150 are in", () => {
    const count = inAt(25).length;
    expect(count).toBeGreaterThan(2350);
    expect(count).toBeLessThan(2650);
  });

  test("buckets spread evenly: each tenth of the range holds 1,000 ± 120", () => {
    const tenths = new Array(10).fill(0);
    for (const id of ids) tenths[Math.floor(rolloutBucket(id, "demo", "1.1.0") / 1000)]++;
    for (const n of tenths) expect(Math.abs(n - 1000)).toBeLessThan(120);
  });

  test("raising the percentage only adds devices; 0% has none and 100% all", () => {
    const at10 = new Set(inAt(10));
    const at50 = new Set(inAt(50));
    for (const id of at10) expect(at50.has(id)).toBe(true);
    expect(inAt(0)).toHaveLength(0);
    expect(inAt(100)).toHaveLength(ids.length);
  });

  test("each release draws a fresh sample: another version picks other devices", () => {
    const a = new Set(inAt(25, "1.1.0"));
    const overlap = inAt(25, "1.2.0").filter((id) => a.has(id)).length;
    // Independent samples of 25% overlap in about 6.25% of devices, not 25%.
    expect(overlap).toBeGreaterThan(450);
    expect(overlap).toBeLessThan(800);
  });

  test("a listed group is in whatever the percentage; the refusal names bucket and groups", () => {
    const inGroup = checkRollout({ percent: 0, groups: ["pilot"] }, { id: "hd-1", groups: ["pilot"] }, release);
    expect(inGroup).toMatchObject({ ok: true, value: { by: "group" } });
    const out = checkRollout({ percent: 0, groups: ["pilot"] }, { id: "hd-1", groups: ["north"] }, release);
    expect(out).toMatchObject({ ok: false, code: "not_in_rollout" });
    expect((out as { message: string }).message).toContain(`bucket ${rolloutBucket("hd-1", "demo", "1.1.0")} of 10000`);
    expect((out as { message: string }).message).toContain("group pilot");
  });

  test("percentages with two decimals are exact bucket counts", () => {
    const id = ids.find((i) => rolloutBucket(i, "demo", "1.1.0") === 0) ?? ids[0]!;
    const bucket = rolloutBucket(id, "demo", "1.1.0");
    expect(checkRollout({ percent: (bucket + 1) / 100, groups: [] }, { id, groups: [] }, release).ok).toBe(true);
    expect(checkRollout({ percent: bucket / 100, groups: [] }, { id, groups: [] }, release).ok).toBe(false);
  });
});
