import { describe, expect, test } from "bun:test";
import { SlotPool } from "../../runtime/engine/slot-pool.ts";
import { HearthError } from "../../runtime/errors.ts";

describe("SlotPool", () => {
  test("hands out free slots, then queues FIFO, then refuses with rate_limited", async () => {
    const pool = new SlotPool(["a", "b"], 2, 3);
    const l1 = await pool.acquire();
    const l2 = await pool.acquire();
    expect([l1.slot, l2.slot]).toEqual(["a", "b"]);
    const order: string[] = [];
    const w1 = pool.acquire().then((l) => (order.push("w1"), l));
    const w2 = pool.acquire().then((l) => (order.push("w2"), l));
    expect(pool.stats()).toEqual({ total: 2, busy: 2, queued: 2, queueCapacity: 2 });
    expect(pool.canAccept()).toBe(false);
    const refused = await pool.acquire().catch((e) => e);
    expect(refused).toBeInstanceOf(HearthError);
    expect(refused.code).toBe("rate_limited");
    expect(refused.details.retryAfterSeconds).toBe(3);
    l1.release();
    l1.release(); // idempotent: must not hand the slot out twice
    const got1 = await w1;
    expect(got1.slot).toBe("a");
    l2.release();
    const got2 = await w2;
    expect(got2.slot).toBe("b");
    expect(order).toEqual(["w1", "w2"]);
    expect(pool.stats().queued).toBe(0);
  });

  test("an aborted waiter leaves the queue and gets client_closed", async () => {
    const pool = new SlotPool([1], 1);
    const held = await pool.acquire();
    const ctl = new AbortController();
    const waiting = pool.acquire(ctl.signal);
    expect(pool.stats().queued).toBe(1);
    ctl.abort();
    const err = await waiting.catch((e) => e);
    expect(err.code).toBe("client_closed");
    expect(pool.stats().queued).toBe(0);
    held.release();
    expect(pool.stats()).toEqual({ total: 1, busy: 0, queued: 0, queueCapacity: 1 });
  });

  test("a free slot is chosen by score (the one holding most of the prompt)", async () => {
    const pool = new SlotPool([{ cached: 3 }, { cached: 40 }, { cached: 12 }], 0);
    const a = await pool.acquire(undefined, (s) => s.cached);
    expect(a.slot.cached).toBe(40);
    const b = await pool.acquire(undefined, (s) => s.cached);
    expect(b.slot.cached).toBe(12);
    const c = await pool.acquire();
    expect(c.slot.cached).toBe(3);
  });
});
