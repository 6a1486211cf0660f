/** Guessing keys against the gateway: failures are limited per client address. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../src/keys/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

describe("failed authentication on the gateway", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
  });
  afterAll(async () => t?.close());

  const call = (key: string) => fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });

  it("refuses an address after 30 wrong keys in a minute, even when it then sends a right one", async () => {
    expect((await call(t.testKey)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await call(generateKey("lk_live_"))).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const blocked = await call(generateKey("lk_live_"));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
    expect((await call(t.testKey)).status).toBe(429);
    const openai = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${t.testKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(openai.status).toBe(429);
    expect(((await openai.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
  });
});
