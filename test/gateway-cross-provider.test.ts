import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-cross-provider-0001");
  await h.addCredential("gemini", "AIza-cross-provider-0001");
  client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => h?.close());

describe("Chat Completions with Claude and Gemini models", () => {
  it("reaches Anthropic's Messages and Gemini's generateContent (not their OpenAI-compatible endpoints) with each provider's credential", async () => {
    const before = h.sim.stats.requests;
    const claude = await client.chat.completions.create({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] });
    expect(claude.object).toBe("chat.completion");
    const gemini = await client.chat.completions.create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] });
    expect(gemini.choices[0]!.message.content).toContain("Hello");
    expect(h.sim.stats.requests - before).toBe(2);
    expect(h.sim.stats.byKey.get("sk-ant-cross-provider-0001")).toBe(1);
    expect(h.sim.stats.byKey.get("AIza-cross-provider-0001")).toBe(1);
    const events = await eventually(async () => { const e = await h.usage(); return e.length >= 2 ? e : null; });
    expect(events.map((e) => [e.provider, e.model, e.endpoint])).toEqual([["anthropic", "claude-sonnet-4-6", "chat"], ["gemini", "gemini-2.5-flash", "chat"]]);
    expect(events[0]!.costNano).toBe(events[0]!.inputTokens * 3000 + events[0]!.outputTokens * 15000);
  });

  it("streams a Claude model through Chat Completions and meters it", async () => {
    const { data, request_id } = await client.chat.completions.create({ model: "claude-haiku-4-5", stream: true, messages: [{ role: "user", content: "hi" }] }).withResponse();
    let text = "";
    for await (const c of data) text += c.choices[0]?.delta.content ?? "";
    expect(text).toContain("Latchkey simulator");
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(e).toMatchObject({ provider: "anthropic", streamed: true, outputTokens: 12 });
  });

  it("refuses clearly an operation that is never translated, for a model whose provider does not speak it", async () => {
    const r = await fetch(`${h.url}/v1/messages/count_tokens`, { method: "POST", headers: { "x-api-key": String(client.apiKey), "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/served by openai/);
  });
});

describe("OpenAI embeddings with a Gemini model", () => {
  it("answers /v1/embeddings from Gemini's batchEmbedContents, in OpenAI's shape (the SDK's base64 and floats), and meters it", async () => {
    const { data, request_id } = await client.embeddings.create({ model: "gemini-embedding-001", input: ["first text", "second text"] }).withResponse();
    expect(data.object).toBe("list");
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(data.data[0]!.embedding).toHaveLength(8);
    // The same vectors Gemini's own endpoint gives, decoded by the SDK from the base64 it asked for.
    const native = await fetch(`${h.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
      method: "POST", headers: { "x-goog-api-key": String(client.apiKey), "content-type": "application/json" },
      body: JSON.stringify({ requests: ["first text", "second text"].map((text) => ({ model: "models/gemini-embedding-001", content: { parts: [{ text }] } })) }),
    });
    const want = ((await native.json()) as { embeddings: { values: number[] }[] }).embeddings.map((e) => e.values);
    data.data.forEach((d, i) => d.embedding.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 4)));
    const floats = await client.embeddings.create({ model: "gemini-embedding-001", input: "one text", encoding_format: "float" });
    expect(floats.data).toHaveLength(1);
    expect(floats.data[0]!.embedding.every((v) => typeof v === "number")).toBe(true);
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    // $0.15 per million input tokens; no output.
    expect(e).toMatchObject({ provider: "gemini", model: "gemini-embedding-001", endpoint: "embeddings", status: 200, inputTokens: data.usage.prompt_tokens, outputTokens: 0 });
    expect(e.costNano).toBe(data.usage.prompt_tokens * 150);
  });

  it("sends more texts than one batchEmbedContents call takes as several calls, joined in order and metered once", async () => {
    // Gemini takes at most 100 requests a call (the simulator refuses more, as Gemini does).
    const over = await fetch(`${h.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
      method: "POST", headers: { "x-goog-api-key": String(client.apiKey), "content-type": "application/json" },
      body: JSON.stringify({ requests: Array.from({ length: 101 }, () => ({ model: "models/gemini-embedding-001", content: { parts: [{ text: "x" }] } })) }),
    });
    expect(over.status).toBe(400);
    await over.arrayBuffer();
    // Texts of distinct lengths get distinct vectors, so the order can be checked.
    const input = Array.from({ length: 250 }, (_, i) => "t".repeat(i + 1));
    const before = h.sim.stats.byKey.get("AIza-cross-provider-0001") ?? 0;
    const { data, request_id } = await client.embeddings.create({ model: "gemini-embedding-001", input, encoding_format: "float" }).withResponse();
    expect(h.sim.stats.byKey.get("AIza-cross-provider-0001")! - before).toBe(3);
    expect(data.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    const one = async (text: string) => (await client.embeddings.create({ model: "gemini-embedding-001", input: [text], encoding_format: "float" })).data[0]!.embedding;
    for (const i of [0, 99, 100, 199, 249]) expect(data.data[i]!.embedding).toEqual(await one(input[i]!));
    const events = await eventually(async () => { const all = (await h.usage()).filter((x) => x.id === request_id); return all.length ? all : null; });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ provider: "gemini", status: 200, inputTokens: data.usage.prompt_tokens, outputTokens: 0 });
    expect(events[0]!.costNano).toBe(data.usage.prompt_tokens * 150);
    // The usage is the three calls' usage added up: the same three calls on Gemini's own endpoint.
    let sum = 0;
    for (const start of [0, 100, 200]) {
      const r = await fetch(`${h.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
        method: "POST", headers: { "x-goog-api-key": String(client.apiKey), "content-type": "application/json" },
        body: JSON.stringify({ requests: input.slice(start, start + 100).map((text) => ({ model: "models/gemini-embedding-001", content: { parts: [{ text }] } })) }),
      });
      sum += ((await r.json()) as { usageMetadata: { promptTokenCount: number } }).usageMetadata.promptTokenCount;
    }
    expect(data.usage.prompt_tokens).toBe(sum);
  });

  it("refuses by name what Gemini cannot honour, in OpenAI's error shape with a request id", async () => {
    const bad = async (body: Record<string, unknown>) => {
      const r = await fetch(`${h.url}/v1/embeddings`, { method: "POST", headers: { authorization: `Bearer ${String(client.apiKey)}`, "content-type": "application/json" }, body: JSON.stringify({ model: "gemini-embedding-001", ...body }) });
      const j = (await r.json()) as { error: { param: string; message: string } };
      expect(r.headers.get("x-request-id")).toMatch(/^req_/);
      return [r.status, j.error.param, j.error.message] as const;
    };
    expect(await bad({ input: [[1, 2, 3]] })).toEqual([400, "input", expect.stringMatching(/token ids/)]);
    expect(await bad({ input: "x", encoding_format: "int8" })).toEqual([400, "encoding_format", expect.any(String)]);
    expect(await bad({ input: "" })).toEqual([400, "input", expect.any(String)]);
    expect(await bad({ input: "x", extra_field: 1 })).toEqual([400, "extra_field", expect.stringMatching(/not supported/)]);
  });
});
