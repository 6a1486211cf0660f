/**
 * Redis losing its state under requests in flight (simulated by deleting this suite's keys). The
 * counter is reloaded from one snapshot of the usage records and the open durable leases; every
 * request is in exactly one of the two, so the counter ends at the records' sum whatever the order
 * of settles and loads: no settle counted twice (it was, when a reload already held its record),
 * none lost, and no timing assumed.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ManualClock } from "../src/lib/index.js";
import { RedisBudgetCounter, type BudgetReservation, type BudgetSubject, type OpenLease } from "../src/limits/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const redisOk = await redisAvailable();

describe.skipIf(!redisOk)("settles after Redis lost its state", () => {
  const redis = new Redis(REDIS_URL);
  const { prefix, cleanup } = redisPrefix();
  afterAll(async () => { await cleanup(); redis.disconnect(); });
  const key = { id: "key:k1", limitNano: 10_000, period: "day" as const };
  const credits = { id: "credits:o1", limitNano: 0, period: "balance" as const };

  async function admitted(budgets: RedisBudgetCounter, requestId: string, subjects: BudgetSubject[] = [key], amountNano = 400): Promise<BudgetReservation> {
    const r = await budgets.reserve({ subjects, amountNano, requestId });
    if (r.outcome !== "admitted") throw new Error(`${requestId}: ${r.outcome}`);
    return r.reservation;
  }
  const lease = (r: BudgetReservation): OpenLease => ({ requestId: r.requestId, amountNano: r.amountNano, reservedAt: r.reservedAt, expiresAt: r.expiresAt });

  it("adds nothing for a request the reload read in the records, and counts an open lease once", async () => {
    await cleanup();
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock });
    await budgets.load(key.id, "day", 100);
    const recorded = await admitted(budgets, "recorded"); // finishes; its record (250) is written before the reload
    const open = await admitted(budgets, "open"); // still in flight at the reload: its lease is open
    await cleanup(); // Redis restarts empty
    clock.advance(5_000);
    await budgets.load(key.id, "day", 100 + 250, { leases: [lease(open)] });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 350, openNano: 400 });
    // Held through the outage and replayed now: the reload counted it, so nothing is added.
    expect(await budgets.settle(recorded, 250)).toBe("unknown_reservation");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 350, openNano: 400 });
    // The in-flight one settles against its recreated reservation.
    expect(await budgets.settle(open, 30)).toBe("settled");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 380, openNano: 0 });
    expect(await budgets.settle(open, 30)).toBe("already_settled");
  });

  it("keeps a settle made before its counter was reloaded for the load that finds its lease still open", async () => {
    await cleanup();
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock });
    await budgets.load(key.id, "day", 0);
    await budgets.loadBalance(credits.id, 5_000);
    const r = await admitted(budgets, "early", [key, credits]);
    await cleanup();
    // It finishes while no counter is loaded; its record is not written yet when both reload.
    expect(await budgets.settle(r, 70)).toBe("unknown_reservation");
    await budgets.load(key.id, "day", 0, { leases: [lease(r)] });
    await budgets.loadBalance(credits.id, 5_000, { leases: [lease(r)] });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 70, openNano: 0 });
    expect(await budgets.snapshot(credits.id, "balance")).toMatchObject({ spentNano: 70, openNano: 0 });
    // A second load of the same counter (a replace) does not add it again.
    await budgets.load(key.id, "day", 0, { leases: [lease(r)], replace: true });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 0, openNano: 0 });
  });

  it("a reservation recreated from a lease written before the reserve is no admission: the reserve is checked", async () => {
    await cleanup();
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock });
    const pending: OpenLease = { requestId: "pending", amountNano: 9_000, reservedAt: clock.now(), expiresAt: clock.now() + 60_000 };
    // The counter's load finds this request's own lease (written, not reserved yet), and 2,000 spent.
    await budgets.load(key.id, "day", 2_000, { leases: [pending] });
    const res = await budgets.reserve({ subjects: [key], amountNano: 9_000, requestId: "pending" });
    expect(res.outcome).toBe("refused");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 2_000, openNano: 0 });
  });

  it("charges a counter loaded after a recreated reservation expired on the others, its lease still open", async () => {
    await cleanup();
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock, defaultLeaseMs: 1_000 });
    // In flight on a node that died, when Redis restarted: the credits reload first and make its reservation again.
    const gone: OpenLease = { requestId: "gone", amountNano: 400, reservedAt: clock.now(), expiresAt: clock.now() + 1_000 };
    await budgets.loadBalance(credits.id, 5_000, { leases: [gone] });
    clock.advance(2_000);
    expect((await budgets.sweep()).map((x) => x.requestId)).toEqual(["gone"]);
    expect(await budgets.snapshot(credits.id, "balance")).toMatchObject({ spentNano: 400, openNano: 0 });
    // Its lease_expired record waits (the database was cut), so the key's counter loads with the lease
    // still open: the charge is the key's too, or its record would later count past the counter.
    await budgets.load(key.id, "day", 0, { leases: [gone] });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 400, openNano: 0 });
    expect(await budgets.snapshot(credits.id, "balance")).toMatchObject({ spentNano: 400, openNano: 0 });
  });

  it("corrects a recreated reservation charged by its lease to its request's record, once", async () => {
    await cleanup();
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock, defaultLeaseMs: 1_000 });
    const gone: OpenLease = { requestId: "gone", amountNano: 400, reservedAt: clock.now(), expiresAt: clock.now() + 1_000 };
    await budgets.load(key.id, "day", 0, { leases: [gone] }); // its settle was lost with Redis
    clock.advance(2_000);
    const [expired] = await budgets.sweep();
    expect(expired).toMatchObject({ requestId: "gone", amountNano: 400 });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 400, openNano: 0 });
    await budgets.correct(expired!, 90); // its record says 90
    await budgets.correct(expired!, 90);
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 90, openNano: 0 });
  });
});
