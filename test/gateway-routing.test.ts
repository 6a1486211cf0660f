import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness({ config: { maxBodyBytes: 4096 } });
  for (const p of ["anthropic", "openai", "gemini"]) await h.addCredential(p, `upstream-${p}-secret-000000`);
  key = await h.issueKey({ allowedModels: ["claude-haiku-4-5", "gemini-2.5-flash", "gpt-4o-mini"] });
});
afterAll(async () => h?.close());

const anthropic = (k: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.url}/v1/messages`, { method: "POST", headers: { "x-api-key": k, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
const openai = (k: string, body: unknown) =>
  fetch(`${h.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${k}`, "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
const gemini = (path: string, init: RequestInit = {}) => fetch(`${h.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }), ...init });
const msg = (model: string) => ({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });

describe("model allow-lists on every route", () => {
  it("refuses a disallowed model named in the body, by id or by alias, and accepts an allowed alias", async () => {
    const r1 = await anthropic(key, msg("claude-sonnet-4-6"));
    expect(r1.status).toBe(404);
    expect(await r1.json()).toMatchObject({ type: "error", error: { type: "not_found_error" }, request_id: expect.stringMatching(/^req_/) });
    expect(r1.headers.get("request-id")).toMatch(/^req_/);
    expect((await anthropic(key, msg("claude-sonnet-4-6-latest"))).status).toBe(404);
    expect((await anthropic(key, msg("claude-haiku-4-5-20251001"))).status).toBe(200);
    const r2 = await openai(key, { model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(r2.status).toBe(404);
    expect(await r2.json()).toMatchObject({ error: { code: "model_not_found", type: "invalid_request_error" } });
    expect(r2.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("refuses a disallowed model named in the path, with the key in a header or the query", async () => {
    const viaHeader = await gemini("/v1beta/models/gemini-2.5-pro:generateContent", { headers: { "x-goog-api-key": key, "content-type": "application/json" } });
    expect(viaHeader.status).toBe(404);
    expect(await viaHeader.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
    expect((await gemini(`/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=${key}`)).status).toBe(404);
    expect((await gemini(`/v1beta/models/gemini-2.5-flash:generateContent?key=${key}`)).status).toBe(200);
    expect((await fetch(`${h.url}/v1/models/claude-sonnet-4-6`, { headers: { "x-api-key": key } })).status).toBe(404);
    expect((await fetch(`${h.url}/v1beta/models/gemini-2.5-pro?key=${key}`)).status).toBe(404);
    expect((await fetch(`${h.url}/v1/models/claude-haiku-4-5`, { headers: { "x-api-key": key } })).status).toBe(200);
  });

  it("leaves disallowed models out of every model list", async () => {
    const a = (await (await fetch(`${h.url}/v1/models`, { headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } })).json()) as { data: { id: string }[] };
    expect(a.data.map((m) => m.id)).toEqual(["claude-haiku-4-5"]);
    const o = (await (await fetch(`${h.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { id: string }[] };
    expect(o.data.map((m) => m.id).sort()).toEqual(["claude-haiku-4-5", "gemini-2.5-flash", "gpt-4o-mini"]);
    const g = (await (await fetch(`${h.url}/v1beta/models?key=${key}`)).json()) as { models: { name: string }[] };
    expect(g.models.map((m) => m.name)).toEqual(["models/gemini-2.5-flash"]);
  });
});

describe("malformed and oversized requests, credentials", () => {
  it("answers malformed JSON with 400 in the caller's dialect", async () => {
    const a = await anthropic(key, "{not json");
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const o = await openai(key, "[1,");
    expect(o.status).toBe(400);
    expect(await o.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    const g = await gemini(`/v1beta/models/gemini-2.5-flash:generateContent?key=${key}`, { body: "{" });
    expect(g.status).toBe(400);
    expect(await g.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
  });

  it("answers an oversized body with 413 in the caller's dialect, declared or streamed", async () => {
    const big = { ...msg("claude-haiku-4-5"), messages: [{ role: "user", content: "x".repeat(5000) }] };
    const a = await anthropic(key, big);
    expect(a.status).toBe(413);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    const chunked = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(JSON.stringify(big))); c.close(); } });
    const o = await fetch(`${h.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: chunked, duplex: "half" } as RequestInit);
    expect(o.status).toBe(413);
    expect(await o.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("refuses two different keys and a missing key", async () => {
    const other = await h.issueKey();
    const r = await anthropic(key, msg("claude-haiku-4-5"), { authorization: `Bearer ${other}` });
    expect(r.status).toBe(400);
    expect((await anthropic(key, msg("claude-haiku-4-5"), { authorization: `Bearer ${key}` })).status).toBe(200);
    const none = await fetch(`${h.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "invalid_api_key" } });
  });

  it("sends test keys to the simulator and says clearly when a provider has no credential", async () => {
    const bare = await startHarness();
    try {
      const test = await bare.issueKey({ kind: "test" });
      const ok = await fetch(`${bare.url}/v1/messages`, { method: "POST", headers: { "x-api-key": test, "content-type": "application/json" }, body: JSON.stringify(msg("claude-opus-4-7")) });
      expect(ok.status).toBe(200);
      expect(bare.sim.stats.requests).toBe(0);
      const live = await bare.issueKey();
      const refused = await fetch(`${bare.url}/v1/messages`, { method: "POST", headers: { "x-api-key": live, "content-type": "application/json" }, body: JSON.stringify(msg("claude-opus-4-7")) });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/No anthropic credential/);
      const sim = await fetch(`${bare.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${live}` }, body: JSON.stringify({ model: "sim-small", messages: [{ role: "user", content: "x" }] }) });
      expect(sim.status).toBe(200);
    } finally {
      await bare.close();
    }
  });

  it("answers unknown paths and wrong methods in dialect", async () => {
    expect((await fetch(`${h.url}/v1/nothing`, { headers: { "x-api-key": key } })).status).toBe(404);
    expect((await fetch(`${h.url}/v1/messages`, { headers: { "x-api-key": key } })).status).toBe(405);
  });
});

describe("browsers and publishable keys", () => {
  it("answers a preflight only for an allowed origin and adds CORS headers to the answer", async () => {
    const pub = await h.issueKey({ kind: "publishable", allowedOrigins: ["https://app.example.com"], allowedModels: ["claude-haiku-4-5"], rateLimits: { requestsPerMinute: 60, tokensPerMinute: null, concurrentRequests: null } });
    const pre = await fetch(`${h.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "x-api-key, content-type" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const evil = await fetch(`${h.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const ok = await anthropic(pub, msg("claude-haiku-4-5"), { origin: "https://app.example.com" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect((await anthropic(pub, msg("claude-haiku-4-5"), { origin: "https://evil.example.com" })).status).toBe(403);
  });
});
