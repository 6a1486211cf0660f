import { describe, expect, it } from "vitest";
import { compileIpAllowlist, compileModelGlobs, normalizeOrigin, parseCidr } from "./matchers.js";

describe("allow-lists", () => {
  it("matches IPv4 and IPv6 CIDR blocks, including IPv4-mapped addresses", () => {
    const allows = compileIpAllowlist(["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"])!;
    expect(allows("10.1.2.3")).toBe(true);
    expect(allows("::ffff:10.9.9.9")).toBe(true);
    expect(allows("11.0.0.1")).toBe(false);
    expect(allows("2001:db8:1::5")).toBe(true);
    expect(allows("2001:db9::1")).toBe(false);
    expect(allows("192.168.1.7")).toBe(true);
    expect(allows("192.168.1.8")).toBe(false);
    expect(allows("garbage")).toBe(false);
    expect(compileIpAllowlist(null)).toBeNull();
  });

  it("validates CIDR text", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ prefix: 8, family: "ipv4" });
    for (const bad of ["10.0.0.0/33", "300.1.1.1", "10.0.0.0/8/1", "::1/129", "10.0.0.0/x", ""]) expect(parseCidr(bad)).toBeNull();
  });

  it("matches model ids and globs", () => {
    const allows = compileModelGlobs(["claude-*", "gpt-4o"])!;
    expect(allows("claude-sonnet-4-6")).toBe(true);
    expect(allows("gpt-4o")).toBe(true);
    expect(allows("gpt-4o-mini")).toBe(false);
    expect(compileModelGlobs(["a.b"])!("axb")).toBe(false);
  });

  it("normalises origins", () => {
    expect(normalizeOrigin("https://App.Example.com/path")).toBe("https://app.example.com");
    expect(normalizeOrigin("ftp://x")).toBeNull();
    expect(normalizeOrigin("nope")).toBeNull();
  });
});
