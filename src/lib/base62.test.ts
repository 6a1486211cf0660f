import { describe, expect, it } from "vitest";
import { BASE62_ALPHABET, decodeBase62, encodeBase62, randomChars } from "./base62.js";

describe("base62", () => {
  it("round-trips integers and pads to a width", () => {
    for (const n of [0, 1, 61, 62, 4_294_967_295, Number.MAX_SAFE_INTEGER]) expect(decodeBase62(encodeBase62(n))).toBe(n);
    expect(encodeBase62(0, 6)).toBe("000000");
    expect(Number.isNaN(decodeBase62("ab-"))).toBe(true);
  });

  it("draws characters uniformly across pool refills", () => {
    const counts = new Map<string, number>();
    const text = randomChars(62 * 2000);
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Each character is expected 2,000 times; a biased draw (e.g. modulo) would skew the low ones.
    for (const c of BASE62_ALPHABET) expect(Math.abs(counts.get(c)! - 2000)).toBeLessThan(300);
    expect(randomChars(30)).not.toBe(randomChars(30));
  });
});
