/**
 * One model, deployments that speak different dialects: failover from the first to a deployment of
 * another API translates the caller's request for it and its answer (JSON and streamed) back into
 * the caller's wire format, with live keys, the official SDKs as clients and the simulator as
 * every upstream.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { readUntil, startHarness, type Harness } from "./support/gateway-harness.js";
import { refusedPort } from "./support/processes.js";

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

// The OpenAI-compatible host's own prices (micro-USD per million tokens), unlike the catalog's for the model.
const HOST_PRICE = { input: 2_000_000, output: 11_000_000, cacheWrite: 0, cacheRead: 0 };
const HAIKU_ON_OPENROUTER = [{ match: "claude-haiku-4-5", upstream: "anthropic/claude-haiku-4.5", price: HOST_PRICE }];
const ask = { model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user" as const, content: "which deployment?" }] };

/** Claude on Anthropic first, then on an OpenAI-compatible host (Chat Completions), reached through the Anthropic SDK. */
async function claudeOnTwoDialects(first: { secret: string; baseUrl?: string }) {
  h = await startHarness();
  const direct = await h.addCredential("anthropic", first.secret, { priority: 0, baseUrl: first.baseUrl });
  const host = await h.addCredential("openai-compatible", "openrouter-secret-0000000", { priority: 1, settings: { preset: "openrouter" }, models: HAIKU_ON_OPENROUTER });
  const client = new Anthropic({ apiKey: await h.issueKey(), baseURL: h.url, maxRetries: 0 });
  return { direct, host, client };
}

describe("failover to a deployment of another dialect (Anthropic Messages caller)", () => {
  it("answers a 529 from Anthropic with the OpenAI-compatible host, translated both ways, not streamed", async () => {
    const { direct, host, client } = await claudeOnTwoDialects({ secret: "anthropic-fail-529-0000000" });
    const { data: m, response } = await client.messages.create(ask).withResponse();
    expect(m.type).toBe("message");
    expect(m.role).toBe("assistant");
    expect(m.content[0]).toMatchObject({ type: "text" });
    expect((m.content[0] as { text: string }).text).toContain("Latchkey simulator");
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    const requestId = response.headers.get("request-id");
    // The host was sent Chat Completions with its own name for the model.
    expect(h!.sim.stats.byKey.get("anthropic-fail-529-0000000")).toBe(1);
    expect(h!.sim.stats.byKeyAndPath.get("openrouter-secret-0000000 /v1/chat/completions")).toBe(1);
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ id: requestId, provider: "openai-compatible", deployment: host, attempts: 2, status: 200, streamed: false });
    expect(e!.inputTokens).toBe(m.usage.input_tokens);
    expect(e!.outputTokens).toBe(m.usage.output_tokens);
    // Priced by the deployment that served, not at the catalog's price for the model.
    expect(e!.costNano).toBe(e!.inputTokens * 2000 + e!.outputTokens * 11_000);
    expect(direct).not.toBe(host);
  });

  it("answers a 529 from Anthropic with the OpenAI-compatible host, streamed as Anthropic's events", async () => {
    const { host, client } = await claudeOnTwoDialects({ secret: "anthropic-fail-529-1111111" });
    const stream = client.messages.stream(ask);
    const types = new Set<string>();
    for await (const ev of stream) types.add(ev.type);
    const m = await stream.finalMessage();
    expect([...types]).toEqual(expect.arrayContaining(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]));
    expect((m.content[0] as { text: string }).text).toContain("Latchkey simulator");
    expect(m.stop_reason).toBe("end_turn");
    expect(h!.sim.stats.byKeyAndPath.get("openrouter-secret-0000000 /v1/chat/completions")).toBe(1);
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ provider: "openai-compatible", deployment: host, attempts: 2, status: 200, streamed: true, aborted: false });
    expect(e!.outputTokens).toBe(m.usage.output_tokens);
    expect(e!.outputTokens).toBeGreaterThan(0);
    expect(e!.costNano).toBe(e!.inputTokens * 2000 + e!.outputTokens * 11_000);
  });

  it("goes to the OpenAI-compatible host when Anthropic refuses the connection, streamed and not", async () => {
    const { host, client } = await claudeOnTwoDialects({ secret: "anthropic-unreachable-000", baseUrl: `http://127.0.0.1:${await refusedPort()}` });
    const m = await client.messages.create(ask);
    expect((m.content[0] as { text: string }).text).toContain("Latchkey simulator");
    const stream = client.messages.stream(ask);
    let text = "";
    stream.on("text", (t) => { text += t; });
    const s = await stream.finalMessage();
    expect(text).toContain("Latchkey simulator");
    const events = await readUntil(() => h!.usage(), (x) => x.length >= 2);
    expect(events.map((e) => [e.provider, e.deployment, e.attempts, e.status, e.streamed])).toEqual([
      ["openai-compatible", host, 2, 200, false], ["openai-compatible", host, 2, 200, true],
    ]);
    expect(events[1]!.outputTokens).toBe(s.usage.output_tokens);
    expect(h!.sim.stats.byKeyAndPath.get("openrouter-secret-0000000 /v1/chat/completions")).toBe(2);
  });

  it("refuses by name what the fallback's API cannot honour, once the fallback is reached and none is left", async () => {
    h = await startHarness({ config: { upstreamMaxAttempts: 2 } });
    await h.addCredential("anthropic", "anthropic-fail-529-2222222", { priority: 0 });
    const host = await h.addCredential("openai-compatible", "openrouter-secret-1111111", { priority: 1, settings: { preset: "openrouter" }, models: HAIKU_ON_OPENROUTER });
    const client = new Anthropic({ apiKey: await h.issueKey(), baseURL: h.url, maxRetries: 0 });
    // top_k: Anthropic's API takes it (this SDK's types no longer list it), the host's Chat Completions has no such setting.
    const withTopK = { ...ask, top_k: 5 };
    const err = await client.messages.create(withTopK).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).message).toContain("top_k");
    expect(h.sim.stats.byKey.get("anthropic-fail-529-2222222")).toBe(1);
    expect(h.sim.stats.byKey.get("openrouter-secret-1111111")).toBeUndefined();
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ status: 400, attempts: 2, errorCode: "untranslatable", costNano: 0, deployment: null });
    expect(host).toBeTruthy();
  });
});

describe("failover to a host that speaks only Chat Completions (OpenAI Responses caller)", () => {
  /** gpt-4o-mini on OpenAI first, then on a host whose model entry says it takes Chat Completions only. */
  async function gptOnTwoApis(first: { secret: string; baseUrl?: string }) {
    h = await startHarness();
    await h.addCredential("openai", first.secret, { priority: 0, baseUrl: first.baseUrl });
    const host = await h.addCredential("openai-compatible", "chat-only-host-000000000", {
      priority: 1, models: [{ match: "gpt-4o-mini", dialect: "chat", price: HOST_PRICE }],
    });
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    return { host, client };
  }

  it("translates a Responses call to Chat Completions for the fallback after a 529, not streamed", async () => {
    const { host, client } = await gptOnTwoApis({ secret: "openai-fail-529-000000000" });
    const { data: r, request_id } = await client.responses.create({ model: "gpt-4o-mini", input: "which deployment?" }).withResponse();
    expect(r.object).toBe("response");
    expect(r.status).toBe("completed");
    expect(r.output_text).toContain("Latchkey simulator");
    expect(h!.sim.stats.byKeyAndPath.get("openai-fail-529-000000000 /v1/responses")).toBe(1);
    expect(h!.sim.stats.byKeyAndPath.get("chat-only-host-000000000 /v1/chat/completions")).toBe(1);
    expect(h!.sim.stats.byKeyAndPath.get("chat-only-host-000000000 /v1/responses")).toBeUndefined();
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ id: request_id, provider: "openai-compatible", deployment: host, attempts: 2, status: 200, endpoint: "responses" });
    expect(e!.inputTokens).toBe(r.usage!.input_tokens);
    expect(e!.outputTokens).toBe(r.usage!.output_tokens);
    expect(e!.costNano).toBe(e!.inputTokens * 2000 + e!.outputTokens * 11_000);
  });

  it("streams the fallback's Chat Completions chunks as Responses events after a refused connection", async () => {
    const { host, client } = await gptOnTwoApis({ secret: "openai-unreachable-0000000", baseUrl: `http://127.0.0.1:${await refusedPort()}/v1` });
    const stream = await client.responses.create({ model: "gpt-4o-mini", input: "which deployment?", stream: true });
    let text = "";
    let completed: OpenAI.Responses.Response | null = null;
    for await (const ev of stream) {
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") completed = ev.response;
    }
    expect(text).toContain("Latchkey simulator");
    expect(completed?.usage?.output_tokens).toBeGreaterThan(0);
    expect(h!.sim.stats.byKeyAndPath.get("chat-only-host-000000000 /v1/chat/completions")).toBe(1);
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ provider: "openai-compatible", deployment: host, attempts: 2, status: 200, streamed: true });
    expect(e!.outputTokens).toBe(completed!.usage!.output_tokens);
    expect(e!.inputTokens).toBe(completed!.usage!.input_tokens);
  });

  it("passes the caller's bytes through to the first deployment when it answers: no translation is made", async () => {
    const { client } = await gptOnTwoApis({ secret: "openai-direct-answers-0000" });
    const r = await client.responses.create({ model: "gpt-4o-mini", input: "hi" });
    expect(r.output_text).toContain("Latchkey simulator");
    expect(h!.sim.stats.byKeyAndPath.get("openai-direct-answers-0000 /v1/responses")).toBe(1);
    expect(h!.sim.stats.byKey.get("chat-only-host-000000000")).toBeUndefined();
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ provider: "openai", attempts: 1, status: 200 });
    // The catalog's price for the model ($0.15 / $0.60), not the fallback's.
    expect(e!.costNano).toBe(e!.inputTokens * 150 + e!.outputTokens * 600);
  });
});

describe("the answering deployment's notice", () => {
  // A Chat caller's tool turn with thinking on, whose assistant message comes back without its
  // signed thinking blocks: translated for Anthropic, thinking is turned off for that turn, and the
  // answer says so in latchkey-notice. A host that takes Chat Completions gets the caller's bytes
  // and changes nothing.
  const TOOLS = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const toolTurn: any = {
    model: "claude-sonnet-4-6", reasoning_effort: "low", tools: TOOLS,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_gone_0001", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
      { role: "tool", tool_call_id: "call_gone_0001", content: "18C" },
    ],
  };
  const SONNET_ON_OPENROUTER = [{ match: "claude-sonnet-4-6", upstream: "anthropic/claude-sonnet-4.6", price: HOST_PRICE }];
  const accessNotice = (requestId: string | null) => h!.logs.map((l) => JSON.parse(l)).find((l) => l.kind === "access" && l.requestId === requestId)?.notice;

  it("is the fallback's: Anthropic's thinking notice when it answers after a Chat Completions host refused the connection", async () => {
    h = await startHarness();
    await h.addCredential("openai-compatible", "chat-host-unreachable-0000", { priority: 0, baseUrl: `http://127.0.0.1:${await refusedPort()}`, settings: { preset: "openrouter" }, models: SONNET_ON_OPENROUTER });
    await h.addCredential("anthropic", "sk-ant-notice-fallback-0001", { priority: 1 });
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create(toolTurn).withResponse();
    expect(data.choices[0]!.message.content).toMatch(/Latchkey simulator/);
    expect(h.sim.stats.byKey.get("sk-ant-notice-fallback-0001")).toBe(1);
    expect(response.headers.get("latchkey-notice")).toMatch(/^thinking off for this turn/);
    expect(accessNotice(response.headers.get("x-request-id"))).toMatch(/^thinking off for this turn/);
  });

  it("is none when the fallback changed nothing: a Chat Completions host answering after Anthropic refused the connection", async () => {
    h = await startHarness();
    await h.addCredential("anthropic", "sk-ant-unreachable-notice-01", { priority: 0, baseUrl: `http://127.0.0.1:${await refusedPort()}` });
    await h.addCredential("openai-compatible", "chat-host-notice-000000001", { priority: 1, settings: { preset: "openrouter" }, models: SONNET_ON_OPENROUTER });
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create(toolTurn).withResponse();
    expect(data.choices[0]!.message.content).toMatch(/Latchkey simulator/);
    expect(h.sim.stats.byKey.get("chat-host-notice-000000001")).toBe(1);
    expect(response.headers.get("latchkey-notice")).toBeNull();
    expect(accessNotice(response.headers.get("x-request-id"))).toBeUndefined();
  });
});
