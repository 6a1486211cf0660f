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
