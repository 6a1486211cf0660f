/**
 * Batches and cached contents through the whole app, on live keys whose credentials point at the
 * standalone simulator (which holds OpenAI files and batches, Anthropic message batches and
 * Gemini cached contents): a batch's cost, learnt when its results are read, goes on the spend
 * limits and the credit balance it ran under, so the requests after it are refused as any spend
 * past a limit makes them; the official SDKs work on every pass-through path.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { eventually } from "./support/gateway-harness.js";

let t: TestApp;
let sim: SimulatorServer;

beforeAll(async () => {
  sim = await createSimulatorServer();
  t = await startSqliteApp();
  for (const provider of ["openai", "anthropic", "gemini"]) {
    const r = await t.api("POST", "/api/v1/credentials", { provider, name: `${provider}-sim`, secret: `${provider}-batch-upstream-secret`, base_url: sim.url });
    expect(r.status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function liveKey(body: Record<string, unknown> = {}): Promise<string> {
  const r = await t.api("POST", "/api/v1/keys", { name: `batch-${Math.random()}`, kind: "live", ...body });
  expect(r.status).toBe(201);
  return r.body.key as string;
}

async function usageOf(endpoint: string, keyId?: string): Promise<{ cost_nano: number; input_tokens: number; output_tokens: number }[]> {
  await t.app.services.store.usage.count();
  let q = t.app.database.db.selectFrom("usage_events").select(["cost_nano", "input_tokens", "output_tokens", "key_id"]).where("endpoint", "=", endpoint);
  if (keyId) q = q.where("key_id", "=", keyId);
  return (await q.execute()).map((r) => ({ cost_nano: Number(r.cost_nano), input_tokens: Number(r.input_tokens), output_tokens: Number(r.output_tokens) }));
}

/** A small chat request through the gateway: its status. */
async function chat(key: string): Promise<number> {
  const r = await fetch(`${t.url}/v1/chat/completions`, {
    method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", max_completion_tokens: 20, messages: [{ role: "user", content: "hi" }] }),
  });
  await r.arrayBuffer();
  return r.status;
}

describe("batch usage on spend limits and credits", () => {
  it("an OpenAI batch's cost comes off the credit balance when its results are read: the next request is refused", async () => {
    expect((await t.api("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    expect((await t.api("POST", "/api/v1/credits", { amount_usd: "0.01", note: "batch test" })).status).toBe(201);
    const key = await liveKey();
    expect(await chat(key)).toBe(200);
    const client = new OpenAI({ apiKey: key, baseURL: `${t.url}/v1`, maxRetries: 0 });
    // Ten requests of 5,000 output tokens: 50,000 × $0.60/M, halved = $0.015, more than is left.
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `question ${i} sim-tokens:5000` }] } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join("\n") + "\n"), "batch.jsonl"), purpose: "batch" });
    expect(file.purpose).toBe("batch");
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const done = await client.batches.retrieve(batch.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 10, completed: 10 } });
    const results = (await (await client.files.content(done.output_file_id!)).text()).trim().split("\n").map((l) => JSON.parse(l) as { response: { body: { usage: { completion_tokens: number } } } });
    expect(results.reduce((n, r) => n + r.response.body.usage.completion_tokens, 0)).toBe(50_000);
    const billed = await eventually(async () => { const u = await usageOf("batch_results"); return u.length ? u : null; });
    expect(billed[0]!.output_tokens).toBe(50_000);
    expect(billed[0]!.cost_nano).toBe(Math.round((billed[0]!.input_tokens * 150 + 50_000 * 600) / 2));
    const balance = await t.api("GET", "/api/v1/credits");
    expect(Number(balance.body.balance_usd)).toBeLessThan(0);
    // Without the batch on the counter, this key would still have most of its $0.01.
    const status = await eventually(async () => { const s = await chat(key); return s !== 200 ? s : null; }, 10_000);
    expect(status).toBe(429);
    // With no credit left, a new batch is refused at creation, in OpenAI's shape, and never reaches the provider.
    const sent = sim.stats.byKey.get("openai-batch-upstream-secret") ?? 0;
    const refused = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }).then(() => null, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>);
    expect(refused).toMatchObject({ status: 429, type: "insufficient_quota", message: expect.stringMatching(/credit/i) });
    expect(refused!.requestID).toMatch(/^req_/);
    expect(sim.stats.byKey.get("openai-batch-upstream-secret") ?? 0).toBe(sent);
    expect((await t.api("PATCH", "/api/v1/credits/settings", { credits_enabled: false })).status).toBe(200);
  }, 60_000);

  it("an Anthropic message batch's cost counts against the key's spend limit", async () => {
    // Credits off (the test before turns them off too): the refusal must come from the spend limit.
    expect((await t.api("PATCH", "/api/v1/credits/settings", { credits_enabled: false })).status).toBe(200);
    const key = await liveKey({ spend_limit: { amount_usd: "0.01", period: "month" } });
    const client = new Anthropic({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    const ok = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(ok.type).toBe("message");
    // Four requests of 3,000 output tokens: 12,000 × $5/M, halved = $0.03, past the $0.01 limit.
    const batch = await client.messages.batches.create({ requests: [1, 2, 3, 4].map((i) => ({ custom_id: `a${i}`, params: { model: "claude-haiku-4-5", max_tokens: 4000, messages: [{ role: "user" as const, content: `q${i} sim-tokens:3000` }] } })) });
    let output = 0;
    for await (const r of await client.messages.batches.results(batch.id)) if (r.result.type === "succeeded") output += r.result.message.usage.output_tokens;
    expect(output).toBe(12_000);
    await expect(eventually(async () => {
      try {
        await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
        return null;
      } catch (err) {
        return err as { status: number; message: string };
      }
    }, 10_000)).resolves.toMatchObject({ status: 429, message: expect.stringMatching(/spend/i) });
    // Past its limit, the key cannot start another batch: refused in Anthropic's shape before the provider sees it.
    const sent = sim.stats.byKey.get("anthropic-batch-upstream-secret") ?? 0;
    const refused = await client.messages.batches.create({ requests: [{ custom_id: "late", params: { model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "hi" }] } }] })
      .then(() => null, (err: unknown) => err as InstanceType<typeof Anthropic.APIError>);
    expect(refused).toMatchObject({ status: 429, message: expect.stringMatching(/spend limit/i) });
    expect((refused!.error as { type: string; error: { type: string } }).error.type).toBe("rate_limit_error");
    expect(refused!.requestID).toMatch(/^req_/);
    expect(sim.stats.byKey.get("anthropic-batch-upstream-secret") ?? 0).toBe(sent);
    // A key within its limit still creates batches.
    const fresh = new Anthropic({ apiKey: await liveKey({ spend_limit: { amount_usd: "0.01", period: "month" } }), baseURL: t.url, maxRetries: 0 });
    const started = await fresh.messages.batches.create({ requests: [{ custom_id: "ok", params: { model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "hi" }] } }] });
    expect(started.type).toBe("message_batch");
  }, 60_000);
});

describe("Gemini cached contents", () => {
  it("creates, reads, lists, updates and deletes a cached content with the official SDK, through the workspace's Gemini credential", async () => {
    const key = await liveKey();
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: t.url } });
    const before = sim.stats.byKey.get("gemini-batch-upstream-secret") ?? 0;
    const cache = await ai.caches.create({ model: "gemini-2.5-flash", config: { contents: [{ role: "user", parts: [{ text: "A long document to cache." }] }], ttl: "600s", displayName: "doc" } });
    expect(cache.name).toMatch(/^cachedContents\//);
    expect(cache.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    expect((await ai.caches.get({ name: cache.name! })).displayName).toBe("doc");
    const names: string[] = [];
    for await (const c of await ai.caches.list()) names.push(c.name ?? "");
    expect(names).toContain(cache.name);
    const updated = await ai.caches.update({ name: cache.name!, config: { ttl: "1200s" } });
    expect(Date.parse(updated.expireTime!)).toBeGreaterThan(Date.parse(cache.expireTime!));
    await ai.caches.delete({ name: cache.name! });
    await expect(ai.caches.get({ name: cache.name! })).rejects.toMatchObject({ status: 404 });
    expect((sim.stats.byKey.get("gemini-batch-upstream-secret") ?? 0) - before).toBe(6);
  }, 60_000);
});
