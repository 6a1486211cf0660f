/**
 * Client addresses behind proxies, gateway and management API alike: X-Forwarded-For is believed
 * only from trusted hops, and then its right-most untrusted entry is the client. "false" means false.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

async function gatewayCall(t: TestApp, key: string, xff?: string) {
  const res = await fetch(`${t.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json", ...(xff ? { "x-forwarded-for": xff } : {}) },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function allowListedKey(t: TestApp, ip: string): Promise<string> {
  const k = await t.api("POST", "/api/v1/keys", { name: `only ${ip}`, kind: "test", ip_allowlist: [ip] });
  expect(k.status).toBe(201);
  return k.body.key;
}

describe("LATCHKEY_TRUST_PROXY=false", () => {
  let t: TestApp;
  beforeAll(async () => {
    // The string the environment gives, as LATCHKEY_TRUST_PROXY=false does.
    t = await startSqliteApp({ logLevel: "fatal", trustProxy: "false" });
  });
  afterAll(async () => t?.close());

  it("ignores X-Forwarded-For: a spoofed address passes no allow-list", async () => {
    const key = await allowListedKey(t, "203.0.113.7");
    expect(await gatewayCall(t, key, "203.0.113.7")).toBe(403);
    const loopback = await allowListedKey(t, "127.0.0.1");
    expect(await gatewayCall(t, loopback, "203.0.113.7")).toBe(200);
  });
});

describe("LATCHKEY_TRUST_PROXY=1 (one proxy in front)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal", trustProxy: "1" });
  });
  afterAll(async () => t?.close());

  it("takes the right-most entry the proxy appended, not the left-most one the client wrote", async () => {
    const key = await allowListedKey(t, "198.51.100.9");
    // The client sent "X-Forwarded-For: 203.0.113.7"; the proxy appended the address it saw.
    const spoofed = await allowListedKey(t, "203.0.113.7");
    expect(await gatewayCall(t, spoofed, "203.0.113.7, 198.51.100.9")).toBe(403);
    expect(await gatewayCall(t, key, "203.0.113.7, 198.51.100.9")).toBe(200);
  });

  it("gives the management API and its audit log the same address", async () => {
    const res = await fetch(`${t.url}/api/v1/workspaces`, {
      method: "POST", headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json", "x-forwarded-for": "203.0.113.7, 198.51.100.9" },
      body: JSON.stringify({ name: "behind a proxy" }),
    });
    expect(res.status).toBe(201);
    const audit = await t.api("GET", "/api/v1/audit?action=workspace.created");
    expect(audit.body.data[0].client_ip).toBe("198.51.100.9");
  });
});

describe("LATCHKEY_TRUST_PROXY as CIDRs", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal", trustProxy: "127.0.0.0/8, 10.0.0.0/8" });
  });
  afterAll(async () => t?.close());

  it("walks past every trusted proxy to the first untrusted hop from the right", async () => {
    const key = await allowListedKey(t, "198.51.100.9");
    expect(await gatewayCall(t, key, "203.0.113.7, 198.51.100.9, 10.1.2.3")).toBe(200);
    expect(await gatewayCall(t, key, "198.51.100.9, 203.0.113.7, 10.1.2.3")).toBe(403);
  });
});
