import { describe, expect, it } from "vitest";
import { generateMasterKey, openSecret, parseMasterKey, rewrapEnvelope, sealSecret } from "./envelope.js";

describe("envelope encryption", () => {
  const master = generateMasterKey();

  it("round-trips and never contains the secret", () => {
    const env = sealSecret(master, "sk-ant-api03-secret", "cred_1|anthropic");
    expect(JSON.stringify(env)).not.toContain("sk-ant");
    expect(openSecret(master, env, "cred_1|anthropic")).toBe("sk-ant-api03-secret");
  });

  it("uses a fresh data key and nonce per record", () => {
    const a = sealSecret(master, "same", "x");
    const b = sealSecret(master, "same", "x");
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("refuses another record's associated data, a wrong master key and tampering", () => {
    const env = sealSecret(master, "s", "cred_1|openai");
    expect(() => openSecret(master, env, "cred_2|openai")).toThrow();
    expect(() => openSecret(generateMasterKey(), env, "cred_1|openai")).toThrow();
    const raw = Buffer.from(env.ciphertext, "base64");
    raw[14] = raw[14]! ^ 1;
    expect(() => openSecret(master, { ...env, ciphertext: raw.toString("base64") }, "cred_1|openai")).toThrow();
  });

  it("re-wraps the data key under a new master key", () => {
    const env = sealSecret(master, "s3cret", "a");
    const next = generateMasterKey();
    const rewrapped = rewrapEnvelope(master, next, env, "a");
    expect(rewrapped.ciphertext).toBe(env.ciphertext);
    expect(openSecret(next, rewrapped, "a")).toBe("s3cret");
    expect(() => openSecret(master, rewrapped, "a")).toThrow();
  });

  it("parses hex and base64 master keys", () => {
    const k = generateMasterKey();
    expect(parseMasterKey(k.toString("hex")).equals(k)).toBe(true);
    expect(parseMasterKey(k.toString("base64")).equals(k)).toBe(true);
    expect(() => parseMasterKey("short")).toThrow();
  });
});
