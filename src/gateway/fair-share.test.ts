import { describe, expect, it } from "vitest";
import { FairShare } from "./fair-share.js";

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
});
