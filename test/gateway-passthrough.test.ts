/** Endpoints beyond generation, on live keys routed to the simulator: legacy completions, moderations, and 404s that name the endpoint. */
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
