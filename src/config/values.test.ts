import { describe, expect, it } from "vitest";
import { loadConfig, unknownEnvironment } from "./index.js";
import { flag } from "./values.js";

describe("strict configuration values", () => {
  it("reads 'false', '0', 'no' and 'off' as no proxy trust (z.coerce.boolean read them as true)", () => {
    for (const v of ["false", "0", "no", "off", "OFF", "False"]) {
      expect(loadConfig({ env: { LATCHKEY_TRUST_PROXY: v } }).trustProxy).toEqual({ kind: "none" });
    }
  });

  it("takes a hop count or proxy CIDRs, and refuses 'true' (trust everyone) and junk, naming the setting", () => {
    expect(loadConfig({ env: { LATCHKEY_TRUST_PROXY: "2" } }).trustProxy).toEqual({ kind: "hops", hops: 2 });
    expect(loadConfig({ env: { LATCHKEY_TRUST_PROXY: "10.0.0.0/8, 192.168.1.1, loopback" } }).trustProxy)
      .toEqual({ kind: "cidrs", cidrs: ["10.0.0.0/8", "192.168.1.1", "loopback"] });
    for (const v of ["true", "yes", "maybe", "10.0.0.0/99"]) {
      expect(() => loadConfig({ env: { LATCHKEY_TRUST_PROXY: v } })).toThrow(/trustProxy \(LATCHKEY_TRUST_PROXY\)/);
    }
  });

  it("accepts exactly true|false|1|0|yes|no|on|off for yes/no values", () => {
    for (const v of ["true", "1", "yes", "on", "ON"]) expect(flag.parse(v)).toBe(true);
    for (const v of ["false", "0", "no", "off"]) expect(flag.parse(v)).toBe(false);
    for (const v of ["", "2", "enabled", "t", "nope"]) expect(flag.safeParse(v).success).toBe(false);
  });

  it("reports LATCHKEY_* variables that name no setting", () => {
    const env = { LATCHKEY_TRUST_PROXI: "1", LATCHKEY_PORT: "1", LATCHKEY_MASTER_KEY_FILE: "/x", LATCHKEY_URL: "u", LATCHKEY_TEST_SERVICES: "required", OTHER: "x" };
    expect(unknownEnvironment(env)).toEqual(["LATCHKEY_TRUST_PROXI"]);
  });
});
