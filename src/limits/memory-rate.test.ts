import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/index.js";
import { MemoryRateLimiter } from "./memory-rate.js";
import type { RateSubject, RateTicket } from "./rate.js";

/** The holds a ticket carries, in place of maps keyed by request id (the shared contract is in test/limits-contract.test.ts). */
describe("MemoryRateLimiter holds", () => {
  const admit = (rate: MemoryRateLimiter, subjects: RateSubject[], tokens: number, leaseMs?: number) => {
    const d = rate.admitSync({ subjects, tokens, requestId: "same-id-every-time", ...(leaseMs ? { leaseMs } : {}) });
    return d;
  };

  it("frees a slot once however often it is settled, by the ticket or a copy of it, even after its lease ended", () => {
    const clock = new ManualClock(1_000_000);
    const rate = new MemoryRateLimiter({ clock });
    const subjects = [{ id: "key:a", concurrentRequests: 3, tokensPerMinute: 1_000 }];
    // Request ids repeat on purpose: nothing is looked up by them any more.
    const a = admit(rate, subjects, 100, 5_000).ticket!;
    const b = admit(rate, subjects, 100, 60_000).ticket!;
    const c = admit(rate, subjects, 100, 60_000).ticket!;
    expect(rate.openSlots("key:a")).toBe(3);
    rate.settleSync(b, 10);
    rate.settleSync({ ...b }, 10);
    rate.settleSync(b, 10);
    expect(rate.openSlots("key:a")).toBe(2);
    // a's lease ends unsettled: its slot is freed by the next admit; settling it later frees nothing more.
    clock.advance(5_000);
    const d = admit(rate, subjects, 100, 60_000);
    expect(d.concurrent).toMatchObject({ limit: 3, remaining: 1 }); // c and d
    rate.settleSync(a, 50);
    expect(rate.openSlots("key:a")).toBe(2);
    expect(admit(rate, subjects, 0, 60_000).concurrent).toMatchObject({ remaining: 0 });
    expect(admit(rate, subjects, 0).admitted).toBe(false);
    // Tokens: a settled at 50, b at 10, c and d still at their bound of 100, two at 0.
    expect(admit(rate, [{ id: "key:a", tokensPerMinute: 1_000 }], 0).tokens).toMatchObject({ remaining: 1_000 - 50 - 10 - 100 - 100 });
    rate.settleSync(c, 1);
    expect(rate.openSlots("key:a")).toBe(2);
  });

  it("frees slots in any order, a long request at the head not holding back the others", () => {
    const clock = new ManualClock(1_000_000);
    const rate = new MemoryRateLimiter({ clock });
    const subjects = [{ id: "key:b", concurrentRequests: 1_000 }, { id: "org:b", concurrentRequests: 1_000 }];
    const long = admit(rate, subjects, 0).ticket!;
    const tickets: RateTicket[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) tickets.push(admit(rate, subjects, 0).ticket!);
      // Settle in a scrambled order: last, first, then the middle.
      const batch = tickets.splice(0);
      for (const t of [batch.pop()!, batch.shift()!, ...batch]) rate.settleSync(t, 0);
      expect(rate.openSlots("key:b")).toBe(1);
      expect(rate.openSlots("org:b")).toBe(1);
    }
    rate.settleSync(long, 0);
    expect(rate.openSlots("key:b")).toBe(0);
    expect(rate.openSlots("org:b")).toBe(0);
  });

  it("forgets a subject once its window is empty and its slots are free, and a late settle of a forgotten subject changes nothing", () => {
    const clock = new ManualClock(1_000_000);
    const rate = new MemoryRateLimiter({ clock });
    const subjects = [{ id: "key:c", requestsPerMinute: 10, tokensPerMinute: 100, concurrentRequests: 2 }];
    const t = admit(rate, subjects, 90, 30_000).ticket!;
    clock.advance(61_000); // the lease (30 s) and the window (60 s) have both passed
    admit(rate, [{ id: "key:other", requestsPerMinute: 10 }], 0); // prunes
    expect(rate.openSlots("key:c")).toBe(0);
    rate.settleSync(t, 5);
    const fresh = admit(rate, subjects, 90);
    expect(fresh.tokens).toMatchObject({ limit: 100, remaining: 10 });
    expect(fresh.requests).toMatchObject({ limit: 10, remaining: 9 });
    expect(fresh.concurrent).toMatchObject({ limit: 2, remaining: 1 });
  });

  it("settles nothing for a ticket it did not issue", () => {
    const clock = new ManualClock(1_000_000);
    const rate = new MemoryRateLimiter({ clock });
    const subjects = [{ id: "key:d", concurrentRequests: 1 }];
    const t = admit(rate, subjects, 0).ticket!;
    const { hold: _hold, ...foreign } = t;
    rate.settleSync(foreign, 0);
    expect(admit(rate, subjects, 0).admitted).toBe(false);
    rate.settleSync(t, 0);
    expect(admit(rate, subjects, 0).admitted).toBe(true);
  });
});
