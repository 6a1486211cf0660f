import { describe, expect, it } from "vitest";
import { FairShare, PRUNE_EVERY } from "./fair-share.js";

describe("fair share", () => {
  it("admits a key up to its share, hands a freed slot to its first waiter, and times a waiter out", async () => {
    const share = new FairShare(2, 50);
    expect(share.acquire("o k")).toBe(true);
    expect(share.acquire("o k")).toBe(true);
    expect(share.acquire("o other")).toBe(true); // another key's share is its own
    const waiting = share.acquire("o k");
    const late = share.acquire("o k");
    expect(waiting).toBeInstanceOf(Promise);
    share.release("o k");
    expect(await waiting).toBe(true);
    expect(await late).toBe(false); // no slot within 50 ms
    share.release("o k");
    share.release("o k");
    expect(share.acquire("o k")).toBe(true); // everything given back
  });

  it("keeps a counter at zero for a key that comes back, and prunes idle ones so many keys do not pile up", async () => {
    const share = new FairShare(2, 50);
    for (let i = 0; i < 100; i++) {
      expect(share.acquire("o one-at-a-time")).toBe(true);
      share.release("o one-at-a-time");
    }
    expect(share.tracked).toBe(1);
    expect(share.inUse()).toBe(0);
    expect(share.acquire("o busy")).toBe(true);
    for (let i = 0; i < PRUNE_EVERY * 3; i++) {
      expect(share.acquire(`o key${i}`)).toBe(true);
      share.release(`o key${i}`);
      expect(share.tracked).toBeLessThanOrEqual(PRUNE_EVERY + 2);
    }
    // The key in flight kept its count through the prunes: one more fits its share of 2, a third waits.
    expect(share.inUse()).toBe(1);
    expect(share.acquire("o busy")).toBe(true);
    const third = share.acquire("o busy");
    expect(third).toBeInstanceOf(Promise);
    expect(await third).toBe(false);
  });
});
