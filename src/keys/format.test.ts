import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BASE62_ALPHABET } from "../lib/index.js";
import { DEFAULT_KEY_PREFIXES, generateKey, hasValidChecksum, keyHint, parseKey } from "./format.js";

describe("key format", () => {
  it("makes keys of prefix, 30 random base62 characters and a 6-character checksum", () => {
    const key = generateKey("lk_live_");
    expect(key).toMatch(/^lk_live_[0-9A-Za-z]{36}$/);
    expect(parseKey(key, DEFAULT_KEY_PREFIXES)).toBe("live");
    expect(parseKey(generateKey("lk_admin_"), DEFAULT_KEY_PREFIXES)).toBe("admin");
    expect(keyHint(key)).toBe(`${key.slice(0, 12)}…${key.slice(-4)}`);
  });

  it("rejects any single-character change (CRC-32 catches every burst up to 32 bits)", () => {
    const key = generateKey("lk_test_");
    fc.assert(fc.property(fc.integer({ min: 8, max: key.length - 1 }), fc.constantFrom(...BASE62_ALPHABET), (i, c) => {
      fc.pre(key[i] !== c);
      const mutated = key.slice(0, i) + c + key.slice(i + 1);
      expect(hasValidChecksum(mutated)).toBe(false);
      expect(parseKey(mutated, DEFAULT_KEY_PREFIXES)).toBeNull();
    }), { numRuns: 2000 });
  });

  it("rejects unknown prefixes, wrong lengths and non-base62 checksums", () => {
    const key = generateKey("lk_live_");
    expect(parseKey(key.replace("lk_live_", "lk_prod_"), DEFAULT_KEY_PREFIXES)).toBeNull();
    expect(parseKey(key + "0", DEFAULT_KEY_PREFIXES)).toBeNull();
    expect(parseKey(`${key.slice(0, -1)}-`, DEFAULT_KEY_PREFIXES)).toBeNull();
    expect(parseKey("", DEFAULT_KEY_PREFIXES)).toBeNull();
  });

  it("honours configured prefixes", () => {
    const prefixes = { ...DEFAULT_KEY_PREFIXES, live: "acme_" };
    expect(parseKey(generateKey("acme_"), prefixes)).toBe("live");
    expect(parseKey(generateKey("lk_live_"), prefixes)).toBeNull();
  });
});
