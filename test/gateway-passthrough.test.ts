/** Endpoints beyond generation, on live keys routed to the simulator: legacy completions, moderations, and 404s that name the endpoint. */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let live: string;
let openai: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("openai", "sk-openai-passthrough-0001");
  await h.addCredential("anthropic", "sk-ant-passthrough-0001");
  await h.addCredential("gemini", "AIza-passthrough-0001");
  live = await h.issueKey();
  openai = new OpenAI({ apiKey: live, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => h?.close());

describe("legacy completions and moderations", () => {
  it("meters /v1/completions, JSON and streamed, as the client saw it", async () => {
    const { data, request_id } = await openai.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 20 }).withResponse();
    expect(data.choices[0]!.text).toContain("Latchkey simulator");
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(e).toMatchObject({ endpoint: "completions", provider: "openai", inputTokens: data.usage!.prompt_tokens, outputTokens: data.usage!.completion_tokens });
    expect(e.costNano).toBe(e.inputTokens * 1500 + e.outputTokens * 2000);
    const { data: stream, request_id: sid } = await openai.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi", stream: true }).withResponse();
    let text = "";
    let sawUsage = false;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? "";
      if (c.usage) sawUsage = true;
    }
    expect(text).toContain("Latchkey simulator");
    expect(sawUsage).toBe(false); // the usage chunk the gateway asked for is not passed on unasked
    expect((await eventually(async () => (await h.usage()).find((x) => x.id === sid))).outputTokens).toBe(12);
  });

  it("answers moderations (default model, free) and refuses a key without the moderations scope", async () => {
    const { data, request_id } = await openai.moderations.create({ input: ["fine", "sim-flag this"] }).withResponse();
    expect(data.results.map((r) => r.flagged)).toEqual([false, true]);
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(e).toMatchObject({ endpoint: "moderations", model: "omni-moderation-latest", costNano: 0, status: 200 });
    const chatOnly = new OpenAI({ apiKey: await h.issueKey({ scopes: ["chat"] }), baseURL: `${h.url}/v1`, maxRetries: 0 });
    await expect(chatOnly.moderations.create({ input: "x" })).rejects.toMatchObject({ status: 403 });
  });
});

describe("stored resources", () => {
  it("bills an Anthropic message batch once, at half price, when its results are first read", async () => {
    const client = new Anthropic({ apiKey: live, baseURL: h.url, maxRetries: 0 });
    const requests = [1, 2, 3].map((i) => ({ custom_id: `r${i}`, params: { model: "claude-sonnet-4-6", max_tokens: 50, messages: [{ role: "user" as const, content: `question ${i}` }] } }));
    const batch = await client.messages.batches.create({ requests });
    expect(batch.processing_status).toBe("ended");
    expect(batch.results_url).toBe(`${h.url}/v1/messages/batches/${batch.id}/results`); // ours, not the provider's
    const got = await client.messages.batches.retrieve(batch.id);
    expect(got.request_counts.succeeded).toBe(3);
    let output = 0;
    let input = 0;
    for await (const r of await client.messages.batches.results(batch.id)) {
      if (r.result.type === "succeeded") {
        output += r.result.message.usage.output_tokens;
        input += r.result.message.usage.input_tokens;
      }
    }
    expect(output).toBe(36);
    const billed = await eventually(async () => (await h.usage()).find((e) => e.endpoint === "batch_results"));
    expect(billed).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-6", inputTokens: input, outputTokens: output });
    expect(billed.costNano).toBe(Math.round((input * 3000 + output * 15000) / 2)); // $3 / $15, halved
    for await (const _ of await client.messages.batches.results(batch.id)) void _;
    await new Promise((r) => setTimeout(r, 200));
    expect((await h.usage()).filter((e) => e.endpoint === "batch_results")).toHaveLength(1); // read twice, billed once
  });

  it("refuses a batch naming a model the key may not use, and a key without the batches scope", async () => {
    const claudeOnly = new Anthropic({ apiKey: await h.issueKey({ allowedModels: ["claude-haiku-*"] }), baseURL: h.url, maxRetries: 0 });
    const before = h.sim.stats.requests;
    await expect(claudeOnly.messages.batches.create({ requests: [{ custom_id: "a", params: { model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "x" }] } }] })).rejects.toMatchObject({ status: 404 });
    expect(h.sim.stats.requests).toBe(before);
    const noBatches = new Anthropic({ apiKey: await h.issueKey({ scopes: ["messages"] }), baseURL: h.url, maxRetries: 0 });
    await expect(noBatches.messages.batches.list()).rejects.toMatchObject({ status: 403 });
  });

  it("retrieves a stored response and its input items through the OpenAI credential", async () => {
    const before = h.sim.stats.byKey.get("sk-openai-passthrough-0001") ?? 0;
    const r = await openai.responses.retrieve("resp_abc123");
    expect(r).toMatchObject({ id: "resp_abc123", object: "response" });
    const items = await openai.responses.inputItems.list("resp_abc123");
    expect(items.data).toEqual([]);
    expect(h.sim.stats.byKey.get("sk-openai-passthrough-0001")).toBe(before + 2);
  });
});

describe("endpoints Latchkey does not serve", () => {
  it("answer 404 in the caller's format, naming the endpoint", async () => {
    const o = await fetch(`${h.url}/v1/audio/speech`, { method: "POST", headers: { authorization: `Bearer ${live}`, "content-type": "application/json" }, body: "{}" });
    expect(o.status).toBe(404);
    expect(await o.json()).toMatchObject({ error: { message: expect.stringContaining("POST /v1/audio/speech"), type: "invalid_request_error" } });
    const a = await fetch(`${h.url}/v1/messages/nope`, { method: "POST", headers: { "x-api-key": live, "anthropic-version": "2023-06-01" }, body: "{}" });
    expect(a.status).toBe(404);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "not_found_error", message: expect.stringContaining("/v1/messages/nope") } });
    const g = await fetch(`${h.url}/v1beta/tunedModels`, { headers: { "x-goog-api-key": live } });
    expect(g.status).toBe(404);
    expect(await g.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND", message: expect.stringContaining("GET /v1beta/tunedModels") } });
  });
});
