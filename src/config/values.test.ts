import { describe, expect, it } from "vitest";
import { ConfigError, configSchema, envName, loadConfig, unknownEnvironment } from "./index.js";
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

  // Found by behaviour, not by a list: a yes/no setting added later is covered without editing this.
  const shape = configSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  const yesNoSettings = Object.keys(shape).filter((k) => {
    const r = shape[k]!.safeParse("yes");
    return r.success && typeof r.data === "boolean";
  });

  it("finds the yes/no settings", () => {
    expect(yesNoSettings).toContain("otelSdkDisabled");
  });

  it("reads every yes/no setting strictly, from the environment and the config file; junk stops start-up naming it", () => {
    for (const key of yesNoSettings) {
      const name = envName(key);
      const read = (v: string) => (loadConfig({ env: { [name]: v } }) as Record<string, unknown>)[key];
      for (const v of ["true", "1", "yes", "on", "TRUE", " On "]) expect(read(v), `${name}=${v}`).toBe(true);
      for (const v of ["false", "0", "no", "off", "False", "OFF"]) expect(read(v), `${name}=${v}`).toBe(false);
      for (const v of [false, true]) expect((loadConfig({ env: {}, overrides: { [key]: v } }) as Record<string, unknown>)[key]).toBe(v);
      for (const v of ["2", "enabled", "t", "nope", "-1"]) {
        expect(() => read(v), `${name}=${v}`).toThrow(ConfigError);
        expect(() => read(v)).toThrow(`${key} (${name})`);
      }
    }
  });

  it("reads no setting's 'false', '0', 'no' or 'off' as a yes (z.coerce.boolean would)", () => {
    for (const key of Object.keys(shape)) {
      for (const v of ["false", "0", "no", "off"]) {
        const r = shape[key]!.safeParse(v);
        if (r.success) expect(r.data, `${envName(key)}=${v}`).not.toBe(true);
      }
    }
  });

  it("reports LATCHKEY_* variables that name no setting", () => {
    const env = { LATCHKEY_TRUST_PROXI: "1", LATCHKEY_PORT: "1", LATCHKEY_MASTER_KEY_FILE: "/x", LATCHKEY_URL: "u", LATCHKEY_TEST_SERVICES: "required", OTHER: "x" };
    expect(unknownEnvironment(env)).toEqual(["LATCHKEY_TRUST_PROXI"]);
  });
});
