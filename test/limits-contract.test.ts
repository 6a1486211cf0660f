/**
 * One contract for the limits, run against the in-memory backend (one node) and the Redis backend
 * (several nodes; real Redis, a private key prefix per run). Time is a ManualClock passed to both.
 */
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Redis } from "ioredis";
import { ManualClock } from "../src/lib/index.js";
import {
  BudgetCreditCounter, MemoryBudgetCounter, MemoryRateLimiter, RATE_WINDOW_MS, RedisBudgetCounter, RedisRateLimiter,
  creditSubject,
  type BudgetCounter, type BudgetReservation, type CreditCounter, type RateLimiter, type RateSubject, type ReserveResult,
} from "../src/limits/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

interface Backend {
  clock: ManualClock;
  rate: RateLimiter;
  budget: BudgetCounter;
  credits: CreditCounter;
}

const redisOk = await redisAvailable();
const redisClients: Redis[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  for (const r of redisClients) r.disconnect();
});

const backends: [string, () => Backend, boolean][] = [
  ["memory", () => {
    const clock = new ManualClock();
    const budget = new MemoryBudgetCounter({ clock });
    return { clock, rate: new MemoryRateLimiter({ clock }), budget, credits: new BudgetCreditCounter(budget) };
  }, true],
  ["redis", () => {
    const clock = new ManualClock();
    const redis = new Redis(REDIS_URL);
    redisClients.push(redis);
    const { prefix, cleanup } = redisPrefix();
    cleanups.push(cleanup);
    const budget = new RedisBudgetCounter({ redis, prefix, clock });
    return { clock, rate: new RedisRateLimiter({ redis, prefix, clock }), budget, credits: new BudgetCreditCounter(budget) };
  }, redisOk],
];

let seq = 0;
const uniq = (p: string) => `${p}${++seq}`;
const cents = (n: number) => n * 10_000_000;

describe.each(backends)("limits contract: %s", (_name, make, enabled) => {
  const b = enabled ? make() : (undefined as unknown as Backend);
  const itIf = enabled ? it : it.skip;

  describe("rate limits", () => {
    itIf("admits exactly N of many concurrent requests against N per minute", async () => {
      const subjects = [{ id: uniq("key:"), requestsPerMinute: 100 }];
      const decisions = await Promise.all(Array.from({ length: 300 }, (_, i) => b.rate.admit({ subjects, tokens: 0, requestId: `r${i}` })));
      expect(decisions.filter((d) => d.admitted)).toHaveLength(100);
      const refused = decisions.find((d) => !d.admitted)!;
      expect(refused.refused).toMatchObject({ kind: "requests", subject: subjects[0]!.id, limit: 100, retryAfterSeconds: 60 });
      expect(refused.requests).toMatchObject({ limit: 100, remaining: 0 });
    });

    itIf("is a sliding window: no double burst across a minute edge", async () => {
      const subjects = [{ id: uniq("key:"), requestsPerMinute: 10 }];
      const admitN = async (n: number) => {
        let ok = 0;
        for (let i = 0; i < n; i++) if ((await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") })).admitted) ok++;
        return ok;
      };
      expect(await admitN(4)).toBe(4);
      b.clock.advance(50_000);
      expect(await admitN(10)).toBe(6); // t0 + 50 s: 4 + 6 = 10 in the last minute
      b.clock.advance(10_000); // t0 + 60 s: the 4 from t0 leave the window, the 6 stay
      expect(await admitN(10)).toBe(4);
      const refusal = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") });
      expect(refusal.refused?.retryAfterSeconds).toBe(50); // the 6 from t0 + 50 s leave at t0 + 110 s
      b.clock.advance(49_999);
      expect(await admitN(1)).toBe(0);
      b.clock.advance(1);
      expect(await admitN(10)).toBe(6);
    });

    itIf("reserves the token bound at admit and corrects it at settle", async () => {
      const subjects = [{ id: uniq("key:"), tokensPerMinute: 1000 }];
      const first = await b.rate.admit({ subjects, tokens: 800, requestId: uniq("r") });
      expect(first.admitted).toBe(true);
      expect(first.tokens).toMatchObject({ limit: 1000, remaining: 200 });
      const second = await b.rate.admit({ subjects, tokens: 300, requestId: uniq("r") });
      expect(second.refused).toMatchObject({ kind: "tokens", exceedsLimit: false, retryAfterSeconds: 60 });
      await b.rate.settle(first.ticket!, 100);
      await b.rate.settle(first.ticket!, 100); // idempotent
      const third = await b.rate.admit({ subjects, tokens: 300, requestId: uniq("r") });
      expect(third.admitted).toBe(true);
      expect(third.tokens?.remaining).toBe(600);
      const huge = await b.rate.admit({ subjects, tokens: 5000, requestId: uniq("r") });
      expect(huge.refused).toMatchObject({ kind: "tokens", exceedsLimit: true });
    });

    itIf("keeps the token sum exact over a busy 100 s: late settles, entries leaving the window, a compacted log", async () => {
      const limit = 1_000_000_000;
      const subjects = [{ id: uniq("key:"), tokensPerMinute: limit }];
      const admitted: { at: number; ticket: NonNullable<Awaited<ReturnType<RateLimiter["admit"]>>["ticket"]>; actual: number }[] = [];
      for (let i = 0; i < 2000; i++) {
        b.clock.advance(50);
        const d = await b.rate.admit({ subjects, tokens: 10, requestId: uniq("r") });
        expect(d.admitted).toBe(true);
        admitted.push({ at: b.clock.now(), ticket: d.ticket!, actual: i % 7 });
        // Each request settles five requests (250 ms) after it started; the last five stay open.
        if (i >= 5) await b.rate.settle(admitted[i - 5]!.ticket, admitted[i - 5]!.actual);
      }
      const now = b.clock.now();
      const inWindow = admitted.filter((a) => a.at > now - RATE_WINDOW_MS);
      const expected = inWindow.reduce((s, a, i) => s + (i >= inWindow.length - 5 ? 10 : a.actual), 0);
      const probe = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") });
      expect(probe.tokens?.remaining).toBe(limit - expected);
      for (const a of admitted.slice(-5)) await b.rate.settle(a.ticket, a.actual);
      const after = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") });
      expect(after.tokens?.remaining).toBe(limit - inWindow.reduce((s, a) => s + a.actual, 0));
    });

    itIf("concurrent requests hold slots that settle frees and leases expire", async () => {
      const subjects = [{ id: uniq("key:"), concurrentRequests: 2 }];
      const a = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r"), leaseMs: 5_000 });
      const c = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r"), leaseMs: 60_000 });
      expect([a.admitted, c.admitted]).toEqual([true, true]);
      expect(c.concurrent).toMatchObject({ limit: 2, remaining: 0 });
      const refused = await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") });
      expect(refused.refused).toMatchObject({ kind: "concurrent", limit: 2, retryAfterSeconds: 1 });
      await b.rate.settle(c.ticket!, 0);
      expect((await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r"), leaseMs: 60_000 })).admitted).toBe(true);
      expect((await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") })).admitted).toBe(false);
      b.clock.advance(5_000); // a's lease ends: its process is presumed dead
      expect((await b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") })).admitted).toBe(true);
    });

    itIf("checks all subjects at once; a refusal consumes nothing anywhere; headers show the tightest", async () => {
      const key: RateSubject = { id: uniq("key:"), requestsPerMinute: 10, tokensPerMinute: 10_000 };
      const ws: RateSubject = { id: uniq("wrk:"), requestsPerMinute: 2, tokensPerMinute: 1_000 };
      const ok = await b.rate.admit({ subjects: [key, ws], tokens: 500, requestId: uniq("r") });
      expect(ok.requests).toEqual({ limit: 2, remaining: 1, resetAt: b.clock.now() + RATE_WINDOW_MS });
      expect(ok.tokens).toMatchObject({ limit: 1000, remaining: 500 });
      expect(ok.concurrent).toBeNull();
      const refused = await b.rate.admit({ subjects: [key, ws], tokens: 600, requestId: uniq("r") });
      expect(refused.refused).toMatchObject({ kind: "tokens", subject: ws.id });
      expect(refused.ticket).toBeNull();
      const keyOnly = await b.rate.admit({ subjects: [key], tokens: 100, requestId: uniq("r") });
      expect(keyOnly.requests).toMatchObject({ limit: 10, remaining: 8 }); // 1 + this one, not 3
      expect(keyOnly.tokens).toMatchObject({ remaining: 10_000 - 600 });
    });

    itIf("property: random arrivals never exceed the limit in any 60 s span", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 60 }), async (steps) => {
          const subjects = [{ id: uniq("key:"), requestsPerMinute: 7 }];
          const admittedAt: number[] = [];
          for (const [gap, burst] of steps) {
            b.clock.advance(gap);
            const ds = await Promise.all(Array.from({ length: burst }, () => b.rate.admit({ subjects, tokens: 0, requestId: uniq("r") })));
            for (const d of ds) if (d.admitted) admittedAt.push(b.clock.now());
          }
          for (const t of admittedAt) expect(admittedAt.filter((u) => u > t - RATE_WINDOW_MS && u <= t).length).toBeLessThanOrEqual(7);
        }),
        { numRuns: 25 },
      );
    });
  });

  describe("budgets", () => {
    itIf("500 concurrent reservations of up to $0.01 never pass a $1.00 limit and admit the most that fit", async () => {
      const subject = { id: uniq("key:"), limitNano: cents(100), period: "day" as const };
      await b.budget.load(subject.id, "day", 0);
      const amounts = Array.from({ length: 500 }, (_, i) => cents(1) - ((i * 7919) % 9_000_000));
      const results = await Promise.all(amounts.map((amountNano, i) => b.budget.reserve({ subjects: [subject], amountNano, requestId: uniq(`req${i}-`) })));
      const admitted = results.filter((r) => r.outcome === "admitted").map((r) => r.reservation.amountNano);
      const total = admitted.reduce((x, y) => x + y, 0);
      expect(total).toBeLessThanOrEqual(cents(100));
      results.forEach((r, i) => {
        // A refusal is only right when the limit had no room for this bound at that moment.
        if (r.outcome === "refused") expect(r.spentNano + r.openNano + amounts[i]!).toBeGreaterThan(cents(100));
        else expect(r.outcome).toBe("admitted");
      });
      expect(cents(100) - total).toBeLessThan(Math.min(...amounts.filter((_, i) => results[i]!.outcome === "refused")));
      expect(await b.budget.snapshot(subject.id, "day")).toMatchObject({ spentNano: 0, openNano: total });
    });

    itIf("with equal bounds exactly the number that fit is admitted", async () => {
      const subject = { id: uniq("wrk:"), limitNano: cents(100), period: "total" as const };
      await b.budget.load(subject.id, "total", 0);
      const results = await Promise.all(Array.from({ length: 500 }, () => b.budget.reserve({ subjects: [subject], amountNano: cents(1), requestId: uniq("req") })));
      expect(results.filter((r) => r.outcome === "admitted")).toHaveLength(100);
    });

    itIf("settle below the reservation frees the difference; settle is idempotent; release spends nothing", async () => {
      const subject = { id: uniq("key:"), limitNano: 100, period: "month" as const };
      await b.budget.load(subject.id, "month", 0);
      const first = await reserved(b.budget.reserve({ subjects: [subject], amountNano: 60, requestId: uniq("r") }));
      expect((await b.budget.reserve({ subjects: [subject], amountNano: 50, requestId: uniq("r") })).outcome).toBe("refused");
      expect(await b.budget.settle(first, 20)).toBe("settled");
      expect(await b.budget.settle(first, 20)).toBe("already_settled");
      const second = await reserved(b.budget.reserve({ subjects: [subject], amountNano: 50, requestId: uniq("r") }));
      expect(await b.budget.snapshot(subject.id, "month")).toMatchObject({ spentNano: 20, openNano: 50 });
      expect(await b.budget.release(second)).toBe("settled");
      expect(await b.budget.snapshot(subject.id, "month")).toMatchObject({ spentNano: 20, openNano: 0 });
    });

    /** A fresh subject with a total limit of 100 and one reservation of `amountNano` on a 1 s lease (earlier leases swept first). */
    const leased = async (amountNano: number) => {
      const subject = { id: uniq("key:"), limitNano: 100, period: "total" as const };
      await b.budget.load(subject.id, "total", 0);
      await b.budget.sweep();
      const r = await reserved(b.budget.reserve({ subjects: [subject], amountNano, requestId: uniq("r"), leaseMs: 1000 }));
      return { subject, r };
    };

    itIf("an expired lease is charged in full and reported exactly once", async () => {
      const { subject, r } = await leased(60);
      b.clock.advance(999);
      expect(await b.budget.sweep()).toEqual([]);
      b.clock.advance(1);
      // The next reserve already sees the expired reservation charged (no sweep needed for that).
      expect(await b.budget.reserve({ subjects: [subject], amountNano: 41, requestId: uniq("r") })).toMatchObject({ outcome: "refused", spentNano: 60, openNano: 0 });
      const reports = await b.budget.sweep();
      expect(reports).toEqual([{ requestId: r.requestId, amountNano: 60, subjects: [{ id: subject.id, periodKey: "t" }], reservedAt: r.reservedAt, expiresAt: r.expiresAt, expiredAt: r.expiresAt }]);
      expect(await b.budget.sweep()).toEqual([]);
      expect(await b.budget.settle(r, 10)).toBe("lease_expired");
      expect(await b.budget.snapshot(subject.id, "total")).toMatchObject({ spentNano: 60, openNano: 0 });
    });

    itIf("an expired lease hands back its owner, so a charge names a key that no subject names", async () => {
      const credits = { id: uniq("credits:"), limitNano: 0, period: "balance" as const };
      await b.budget.loadBalance(credits.id, 1_000);
      await b.budget.sweep();
      const owner = "key:key_x wrk:wrk_x org:org_x";
      const r = await reserved(b.budget.reserve({ subjects: [credits], amountNano: 70, requestId: uniq("r"), leaseMs: 1000, owner }));
      b.clock.advance(1000);
      expect(await b.budget.sweep()).toEqual([expect.objectContaining({ requestId: r.requestId, amountNano: 70, owner })]);
      const plain = await reserved(b.budget.reserve({ subjects: [credits], amountNano: 5, requestId: uniq("r"), leaseMs: 1000 }));
      b.clock.advance(1000);
      const [report] = await b.budget.sweep();
      expect(report).toMatchObject({ requestId: plain.requestId });
      expect(report!.owner).toBeUndefined();
    });

    itIf("a zero-cost reservation expires cleanly (no negated zero reaches the counters)", async () => {
      const { subject, r } = await leased(0);
      b.clock.advance(1000);
      expect(await b.budget.reserve({ subjects: [subject], amountNano: 100, requestId: uniq("r") })).toMatchObject({ outcome: "admitted" });
      expect(await b.budget.sweep()).toEqual([expect.objectContaining({ requestId: r.requestId, amountNano: 0 })]);
      expect(await b.budget.snapshot(subject.id, "total")).toMatchObject({ spentNano: 0, openNano: 100 });
    });

    itIf("periods roll over at UTC day, week and month boundaries; a settle lands in its own period", async () => {
      for (const [period, edge] of [["day", Date.UTC(2026, 2, 3)], ["week", Date.UTC(2026, 2, 9)], ["month", Date.UTC(2026, 3, 1)]] as const) {
        const subject = { id: uniq("key:"), limitNano: 100, period };
        b.clock.set(edge - 1);
        await b.budget.load(subject.id, period, 90);
        const r = await reserved(b.budget.reserve({ subjects: [subject], amountNano: 10, requestId: uniq("r") }));
        expect((await b.budget.reserve({ subjects: [subject], amountNano: 1, requestId: uniq("r") })).outcome).toBe("refused");
        b.clock.set(edge);
        expect(await b.budget.reserve({ subjects: [subject], amountNano: 1, requestId: uniq("r") })).toEqual({ outcome: "needs_load", subjects: [{ id: subject.id, period }] });
        await b.budget.load(subject.id, period, 0);
        expect(await b.budget.settle(r, 7)).toBe("settled");
        expect(await b.budget.snapshot(subject.id, period)).toMatchObject({ spentNano: 0, openNano: 0 });
        expect((await b.budget.reserve({ subjects: [subject], amountNano: 100, requestId: uniq("r") })).outcome).toBe("admitted");
        b.clock.set(edge - 1);
        expect(await b.budget.snapshot(subject.id, period)).toMatchObject({ spentNano: 97, openNano: 0 });
      }
    });

    itIf("a refusal on the workspace reserves nothing on the key; unloaded subjects answer needs_load", async () => {
      const key = { id: uniq("key:"), limitNano: 1000, period: "day" as const };
      const ws = { id: uniq("wrk:"), limitNano: 500, period: "week" as const };
      await b.budget.load(key.id, "day", 0);
      expect(await b.budget.reserve({ subjects: [key, ws], amountNano: 100, requestId: uniq("r") })).toEqual({ outcome: "needs_load", subjects: [{ id: ws.id, period: "week" }] });
      await b.budget.load(ws.id, "week", 450);
      expect(await b.budget.reserve({ subjects: [key, ws], amountNano: 100, requestId: uniq("r") })).toEqual({ outcome: "refused", subject: ws.id, period: "week", limitNano: 500, spentNano: 450, openNano: 0 });
      expect(await b.budget.snapshot(key.id, "day")).toMatchObject({ spentNano: 0, openNano: 0 });
      const r = await reserved(b.budget.reserve({ subjects: [key, ws], amountNano: 50, requestId: uniq("r") }));
      expect(await b.budget.load(key.id, "day", 5)).toBe(false); // loaded already: left alone
      expect(await b.budget.snapshot(key.id, "day")).toMatchObject({ spentNano: 0, openNano: 50 });
      expect(await b.budget.load(key.id, "day", 5, { replace: true })).toBe(true); // a reload keeps open reservations
      expect(await b.budget.snapshot(key.id, "day")).toMatchObject({ spentNano: 5, openNano: 50 });
      expect(await b.budget.settle(r, 40)).toBe("settled");
      expect(await b.budget.snapshot(ws.id, "week")).toMatchObject({ spentNano: 490, openNano: 0 });
    });

    itIf("nodes racing to load one counter cannot wipe spend settled in between", async () => {
      const key = { id: uniq("key:"), limitNano: 1000, period: "day" as const };
      const [r0] = await Promise.all([b.budget.reserve({ subjects: [key], amountNano: 1, requestId: uniq("r") }), b.budget.reserve({ subjects: [key], amountNano: 1, requestId: uniq("r") })]);
      expect(r0.outcome).toBe("needs_load"); // both saw it; both read the database (say 100) and load
      expect(await b.budget.load(key.id, "day", 100)).toBe(true);
      const r = await reserved(b.budget.reserve({ subjects: [key], amountNano: 200, requestId: uniq("r") }));
      await b.budget.settle(r, 150);
      expect(await b.budget.load(key.id, "day", 100, "lk")).toBe(false); // the slower node's load is ignored
      expect(await b.budget.snapshot(key.id, "day")).toMatchObject({ spentNano: 250 });
    });

    itIf("a cost no reservation held (a charge afterwards) goes on the loaded counters once", async () => {
      const key = { id: uniq("key:"), limitNano: 1000, period: "total" as const };
      await b.budget.load(key.id, "total", 0);
      const ghost: BudgetReservation = {
        requestId: uniq("r"), amountNano: 0, subjects: [key], periodKeys: ["t"], reservedAt: b.clock.now(), expiresAt: b.clock.now(), tag: "lk", local: false, unreserved: true,
      };
      expect(await b.budget.settle(ghost, 120)).toBe("unknown_reservation");
      expect(await b.budget.settle(ghost, 120)).toBe("already_settled");
      expect(await b.budget.snapshot(key.id, "total")).toMatchObject({ spentNano: 120, openNano: 0 });
    });

    itIf("property: random interleavings never exceed the limit", async () => {
      const op = fc.oneof(
        fc.record({ t: fc.constant("reserve" as const), amount: fc.integer({ min: 1, max: 40 }) }),
        fc.record({ t: fc.constant("settle" as const), pick: fc.nat(), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
        fc.record({ t: fc.constant("release" as const), pick: fc.nat() }),
        fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 3000 }) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 25 }), async (batches) => {
          const subject = { id: uniq("key:"), limitNano: 100, period: "total" as const };
          await b.budget.load(subject.id, "total", 0);
          const open: BudgetReservation[] = [];
          for (const batch of batches) {
            await Promise.all(batch.map(async (o) => {
              if (o.t === "advance") return b.clock.advance(o.ms);
              if (o.t === "reserve") {
                const r = await b.budget.reserve({ subjects: [subject], amountNano: o.amount, requestId: uniq("r"), leaseMs: 5000 });
                if (r.outcome === "admitted") open.push(r.reservation);
                return;
              }
              const r = open.splice(o.pick % Math.max(1, open.length), 1)[0];
              if (!r) return;
              if (o.t === "settle") await b.budget.settle(r, Math.floor(r.amountNano * o.frac));
              else await b.budget.release(r);
            }));
            const snap = (await b.budget.snapshot(subject.id, "total"))!;
            expect(snap.spentNano + snap.openNano).toBeLessThanOrEqual(100);
            expect(snap.openNano).toBeGreaterThanOrEqual(0);
          }
          await b.budget.sweep();
        }),
        { numRuns: 30 },
      );
    });
  });

  describe("credits", () => {
    itIf("refuses what the balance cannot cover; concurrent top-ups and spends add up exactly", async () => {
      const org = uniq("org_");
      expect((await b.credits.reserve({ organizationId: org, amountNano: 1, requestId: uniq("r") })).outcome).toBe("needs_load");
      await b.credits.load(org, 10_000);
      expect(await b.credits.reserve({ organizationId: org, amountNano: 10_001, requestId: uniq("r") })).toMatchObject({ outcome: "refused", subject: creditSubject(org).id, limitNano: 10_000 });
      await Promise.all(Array.from({ length: 100 }, async (_, i) => {
        if (i % 2 === 0) return expect(await b.credits.topUp(org, 100)).toBe(true);
        const r = await reserved(b.credits.reserve({ organizationId: org, amountNano: 200, requestId: uniq("r") }));
        expect(await b.credits.settle(r, 150)).toBe("settled");
      }));
      expect(await b.credits.balance(org)).toEqual({ balanceNano: 15_000, spentNano: 7_500, openNano: 0, availableNano: 7_500 });
      await b.credits.load(org, 7_500); // the ledger now holds the debits
      expect(await b.credits.balance(org)).toEqual({ balanceNano: 7_500, spentNano: 0, openNano: 0, availableNano: 7_500 });
    });

    itIf("adds a top-up's ledger entry once: never when the loaded balance already has it", async () => {
      const org = uniq("org_");
      expect(await b.credits.topUp(org, 100, 1)).toBe(false); // not loaded: the next load reads the ledger
      await b.credits.load(org, 1_000, { replace: false, seq: 4 });
      // Entry 4 was in the ledger the load read (a top-up committed just before a node loaded).
      expect(await b.credits.topUp(org, 100, 4)).toBe(false);
      // Entries after it arrive in any order, each once.
      expect(await b.credits.topUp(org, 300, 6)).toBe(true);
      expect(await b.credits.topUp(org, 200, 5)).toBe(true);
      expect((await b.credits.balance(org))!.balanceNano).toBe(1_500);
    });
  });
});

async function reserved(p: Promise<ReserveResult>): Promise<BudgetReservation> {
  const r = await p;
  if (r.outcome !== "admitted") throw new Error(`expected admitted, got ${JSON.stringify(r)}`);
  return r.reservation;
}
