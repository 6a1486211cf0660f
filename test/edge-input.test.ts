/** Bad input at the edges: 400 in the caller's format with a request id, never a 500; files private. */
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

describe("malformed and over-deep input", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
  });
  afterAll(async () => t?.close());

  it("answers a malformed percent-escape in a gateway path with 400 in the endpoint's dialect, unauthenticated too", async () => {
    for (const [path, init] of [
      ["/v1beta/models/gemini%E0%A4%A:generateContent", { method: "POST", headers: { "x-goog-api-key": t.testKey }, body: "{}" }],
      ["/v1beta/models/%ZZ:generateContent", { method: "POST", body: "{}" }],
      ["/v1/models/%E0%A4%A", { method: "GET", headers: { authorization: `Bearer ${t.testKey}` } }],
    ] as const) {
      const r = await fetch(`${t.url}${path}`, init);
      expect(r.status, path).toBe(400);
      const text = await r.text();
      expect(text).toMatch(/malformed percent-escape/);
    }
  });

  it("answers a malformed percent-escape or an over-long id in a management path with our 400 and a request id", async () => {
    for (const path of ["/api/v1/keys/%E0%A4%A", `/api/v1/keys/${"k".repeat(5000)}`]) {
      const r = await t.api("GET", path);
      expect(r.status, path.slice(0, 40)).toBe(400);
      expect(r.body.error.request_id).toMatch(/^req_/);
    }
  });

  it("refuses a management body or key metadata nested 5,000 deep with 400", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const r1 = await t.api("POST", "/api/v1/workspaces", `{"name":"x","allowed_models":${deep}}`);
    expect(r1.status).toBe(400);
    expect(r1.body.error.request_id).toMatch(/^req_/);
    const meta = '{"a":'.repeat(5000) + "1" + "}".repeat(5000);
    const r2 = await t.api("POST", "/api/v1/keys", `{"name":"x","metadata":${meta}}`);
    expect(r2.status).toBe(400);
  });

  it("refuses a gateway body nested past the limit with 400 in each endpoint's dialect and a request id, and serves one just inside it", async () => {
    const nest = (n: number) => '{"a":'.repeat(n - 1) + "1" + "}".repeat(n - 1);
    // The body object itself is level 1, so metadata nested n deep makes the body n + 1 deep.
    const calls: { path: string; headers: Record<string, string>; header: string; body: (m: string) => string }[] = [
      { path: "/v1/messages", headers: { "x-api-key": t.testKey }, header: "request-id", body: (m: string) => `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":${m}}` },
      { path: "/v1/chat/completions", headers: { authorization: `Bearer ${t.testKey}` }, header: "x-request-id", body: (m: string) => `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":${m}}` },
      { path: "/v1beta/models/gemini-2.5-flash:generateContent", headers: { "x-goog-api-key": t.testKey }, header: "x-request-id", body: (m: string) => `{"contents":[{"parts":[{"text":"hi"}]}],"x":${m}}` },
    ];
    for (const c of calls) {
      for (const depth of [129, 20_000]) {
        const r = await fetch(`${t.url}${c.path}`, { method: "POST", headers: { ...c.headers, "content-type": "application/json" }, body: c.body(nest(depth)) });
        expect(r.status, `${c.path} ${depth}`).toBe(400);
        expect(r.headers.get(c.header), c.path).toMatch(/^req_/);
        const body = await r.json() as any;
        expect(body.error.message, c.path).toMatch(/nests deeper than 128 levels/);
        if (c.path === "/v1/messages") expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error" }, request_id: expect.stringMatching(/^req_/) });
        if (c.path === "/v1/chat/completions") expect(body.error.type).toBe("invalid_request_error");
        if (c.path.startsWith("/v1beta")) expect(body.error.status).toBe("INVALID_ARGUMENT");
      }
    }
    // 127 levels of metadata plus the body itself is exactly the limit: not refused for its depth.
    const ok = await fetch(`${t.url}/v1/messages`, { method: "POST", headers: { "x-api-key": t.testKey, "content-type": "application/json" }, body: calls[0]!.body(nest(127)) });
    expect(await ok.text()).not.toMatch(/nests deeper/);
  });

  it("keeps the data directory 0700 and every database file 0600", () => {
    const dir = t.app.config.dataDir;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ["latchkey.db", "latchkey.db-wal", "latchkey.db-shm"]) {
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    }
  });
});
