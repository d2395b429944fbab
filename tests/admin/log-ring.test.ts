import { describe, expect, test } from "bun:test";
import { createLogger, LogRing, teeLogger } from "../../runtime/log.ts";

describe("log ring", () => {
  test("keeps the newest records up to its capacity, oldest first", () => {
    const ring = new LogRing(3);
    const lines: string[] = [];
    const logger = createLogger({ level: "info", write: (l) => lines.push(l), ring, now: () => Date.UTC(2026, 0, 1) });
    logger.debug("below the level");
    for (let i = 1; i <= 5; i++) logger.info(`m${i}`, { i });
    expect(ring.recent().map((r) => r.msg)).toEqual(["m3", "m4", "m5"]);
    expect(ring.recent(2).map((r) => r.msg)).toEqual(["m4", "m5"]);
    expect(ring.recent(1)[0]).toEqual({ time: "2026-01-01T00:00:00.000Z", level: "info", msg: "m5", fields: { i: 5 } });
    expect(lines).toHaveLength(5);
  });

  test("a tee records what another logger is given, and the fields are copied", () => {
    const ring = new LogRing(10);
    const seen: string[] = [];
    const logger = teeLogger(createLogger({ write: (l) => seen.push(l) }), ring);
    const fields = { a: 1 };
    logger.warn("careful", fields);
    fields.a = 2;
    expect(ring.recent()).toEqual([expect.objectContaining({ level: "warn", msg: "careful", fields: { a: 1 } })]);
    expect(seen).toHaveLength(1);
  });
});

describe("logs route", () => {
  test("a record JSON cannot carry does not fail the list", async () => {
    const { adminHarness } = await import("./harness.ts");
    const h = adminHarness();
    await h.pair();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    h.logs.push({ time: new Date().toISOString(), level: "warn", msg: "odd", fields: { big: 1n, cyclic } });
    const res = await h.call("GET", "logs?limit=1");
    expect(res.status).toBe(200);
    expect(res.json.records).toEqual([expect.objectContaining({ msg: "odd", fields: { unserializable: ["big", "cyclic"] } })]);
    h.close();
  });
});
