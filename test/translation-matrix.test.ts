/**
 * Conformance: every caller dialect (official Node SDKs) × every provider dialect, JSON and
 * streamed, on a live key whose provider credentials point at the simulator. The answer reaches the
 * client in its own dialect, and the usage recorded equals the usage the client saw.
 */
import Anthropic from "@anthropic-ai/sdk";
import { ApiError } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, CALLERS, sdks, type CallerSdks } from "./support/callers.js";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

const PROVIDERS = [["anthropic", "claude-sonnet-4-6"], ["openai", "gpt-4o"], ["gemini", "gemini-2.5-flash"]] as const;

let h: Harness;
let s: CallerSdks;

beforeAll(async () => {
  h = await startHarness();
  for (const [p] of PROVIDERS) await h.addCredential(p, `upstream-secret-${p}-0001`);
  s = sdks(h.url, await h.issueKey());
});
afterAll(async () => h?.close());

describe("every caller reaches every provider", () => {
  for (const caller of CALLERS) {
    for (const [provider, model] of PROVIDERS) {
      for (const stream of [false, true]) {
        it(`${caller} → ${provider} (${stream ? "stream" : "JSON"})`, async () => {
          const before = h.sim.stats.byKey.get(`upstream-secret-${provider}-0001`) ?? 0;
          // The simulator reports 7 cached input tokens when the prompt asks it to.
          const seen = await call(caller, s, model, stream, { prompt: "Say hello. sim-cache-read:7 sim-tokens:9" });
          expect(seen.text).toBe("Hello from the Latchkey simulator . This answer is");
          expect(h.sim.stats.byKey.get(`upstream-secret-${provider}-0001`)).toBe(before + 1);
          expect(seen.output).toBe(9);
          expect(seen.cacheRead).toBe(7);
          const e = await eventually(async () => (await h.usage()).find((x) => x.id === seen.requestId));
          expect(e).toMatchObject({ provider, model, streamed: stream, status: 200, outputTokens: seen.output, cacheReadTokens: 7 });
          expect(e.inputTokens + e.cacheReadTokens + e.cacheWriteTokens).toBe(seen.input);
          expect(e.costNano).toBeGreaterThan(0);
        });
      }
    }
  }
});

describe("errors and refusals reach the caller in its own shape", () => {
  it("an upstream error is mapped into the caller's error class and status, with the provider's message", async () => {
    const chatErr: any = await s.openai.chat.completions.create({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "sim-fault:500" }] }).catch((e: unknown) => e);
    expect(chatErr).toBeInstanceOf(OpenAI.InternalServerError);
    expect(chatErr.message).toContain("Simulated 500 error.");
    const anthErr: any = await s.anthropic.messages.create({ model: "gpt-4o", max_tokens: 20, messages: [{ role: "user", content: "sim-fault:429" }] }).catch((e: unknown) => e);
    expect(anthErr).toBeInstanceOf(Anthropic.RateLimitError);
    expect(anthErr.error.error.type).toBe("rate_limit_error");
    const gemErr: any = await s.gemini.models.generateContent({ model: "claude-sonnet-4-6", contents: "sim-fault:503" }).catch((e: unknown) => e);
    expect(gemErr).toBeInstanceOf(ApiError);
    expect(gemErr.status).toBe(503);
    const respErr: any = await s.openai.responses.create({ model: "gemini-2.5-flash", input: "sim-fault:529" }).catch((e: unknown) => e);
    expect(respErr).toBeInstanceOf(OpenAI.APIError);
    expect(respErr.status).toBeGreaterThanOrEqual(500);
  });

  it("what must not happen: a parameter the provider cannot honour is refused by name before anything leaves, and nothing is billed", async () => {
    const before = h.sim.stats.requests;
    const { response } = await s.openai.chat.completions.create({
      model: "gemini-2.5-flash", parallel_tool_calls: false, messages: [{ role: "user", content: "x" }],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    }).withResponse().catch((e: any) => ({ response: e }));
    const err = response as any;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("parallel_tool_calls: false");
    expect(err.message).toMatch(/parallel_tool_calls: false cannot be honoured .* gemini/);
    const requestId = err.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_/);
    const bad: any = await s.anthropic.messages.create({ model: "gpt-4o", max_tokens: 20, top_k: 5, messages: [{ role: "user", content: "x" }] } as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad.error.error.message).toMatch(/^top_k/);
    const gem: any = await s.gemini.models.generateContent({ model: "gpt-4o", contents: "x", config: { safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT" as any, threshold: "BLOCK_NONE" as any }] } }).catch((e: unknown) => e);
    expect(gem.status).toBe(400);
    expect(gem.message).toMatch(/safetySettings/);
    expect(h.sim.stats.requests).toBe(before);
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === requestId));
    expect(e).toMatchObject({ status: 400, errorCode: "untranslatable", costNano: 0, inputTokens: 0, outputTokens: 0 });
  });

  it("what must not happen: a translated stream the upstream cuts is not ended cleanly", async () => {
    const stream = s.anthropic.messages.stream({ model: "gpt-4o", max_tokens: 50, messages: [{ role: "user", content: "sim-fault:die sim-tokens:40" }] });
    await expect(stream.finalMessage()).rejects.toThrow(/ended unexpectedly|stream/i);
  });
});

describe("test keys take the live route", () => {
  it("a test key reaches another provider's model through the same translation, with the simulator as transport", async () => {
    const t = sdks(h.url, await h.issueKey({ kind: "test" }));
    const before = h.sim.stats.requests;
    const seen = await call("anthropic", t, "gpt-4o", true, { prompt: "hi sim-tokens:3" });
    expect(seen.text).toBe("Hello from the");
    expect(h.sim.stats.requests).toBe(before);
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === seen.requestId));
    expect(e).toMatchObject({ provider: "simulator", model: "gpt-4o", outputTokens: 3 });
  });

  it("a test key is refused where a live key is (an operation that is never translated)", async () => {
    for (const key of [await h.issueKey({ kind: "test" }), await h.issueKey()]) {
      const r = await fetch(`${h.url}/v1/messages/count_tokens`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }) });
      expect(r.status).toBe(400);
    }
  });

  it("the simulator answers a model in its provider's dialect only, as the providers do", async () => {
    const r = await fetch(`${h.sim.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "x" }] }) });
    expect(r.status).toBe(404);
    const g = await fetch(`${h.sim.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gemini-2.5-flash", max_tokens: 5, messages: [{ role: "user", content: "x" }] }) });
    expect(g.status).toBe(404);
    const own = await fetch(`${h.sim.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "x" }] }) });
    expect(own.status).toBe(200);
  });
});

describe("tool round trips through the simulator, every caller × every provider", () => {
  const TOOL = { name: "get_weather", description: "Weather in a city", schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
  for (const caller of CALLERS) {
    for (const [provider, model] of PROVIDERS) {
      for (const stream of [false, true]) {
        it(`${caller} → ${provider} (${stream ? "stream" : "JSON"})`, async () => {
          const first = await call(caller, s, model, stream, { prompt: "Weather in Paris?", tool: TOOL });
          expect(first.calls).toHaveLength(1);
          expect(first.calls[0]!.name).toBe("get_weather");
          expect(typeof first.calls[0]!.args.city).toBe("string");
          const e1 = await eventually(async () => (await h.usage()).find((x) => x.id === first.requestId));
          expect(e1).toMatchObject({ provider, outputTokens: first.output });
          expect(e1.inputTokens + e1.cacheReadTokens + e1.cacheWriteTokens).toBe(first.input);
          const call1 = { ...first.calls[0]!, id: first.calls[0]!.id || "call_1" };
          const second = await call(caller, s, model, stream, { prompt: "Weather in Paris?", tool: TOOL, result: { call: call1, output: "18C" } });
          expect(second.calls).toEqual([]);
          expect(second.text).toMatch(/^Hello from the Latchkey simulator/);
          const e2 = await eventually(async () => (await h.usage()).find((x) => x.id === second.requestId));
          expect(e2.outputTokens).toBe(second.output);
          expect(e2.inputTokens + e2.cacheReadTokens + e2.cacheWriteTokens).toBe(second.input);
        });
      }
    }
  }
});
