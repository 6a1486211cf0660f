import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let key: string;
let client: Anthropic;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-api03-upstream-secret-one");
  key = await h.issueKey();
  client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
});
afterAll(async () => h?.close());

describe("official Anthropic SDK against the gateway", () => {
  it("creates a message and records its usage and cost", async () => {
    const msg = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "Hello there" }] });
    expect(msg.type).toBe("message");
    expect(msg.content[0]).toMatchObject({ type: "text" });
    expect(msg.usage.output_tokens).toBe(12);
    expect(msg._request_id).toMatch(/^req_/);
    const events = await eventually(async () => (await h.usage()).filter((e) => e.id === msg._request_id).length ? h.usage() : null);
    const e = events.find((x) => x.id === msg._request_id)!;
    expect(e).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-6", endpoint: "messages", inputTokens: msg.usage.input_tokens, outputTokens: 12, status: 200, streamed: false, aborted: false });
    // $3 in / $15 out per million tokens
    expect(e.costNano).toBe(msg.usage.input_tokens * 3000 + 12 * 15000);
  });

  it("streams a message with the SDK's stream helper and meters it", async () => {
    const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "Stream please" }] });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.length).toBe(5);
    expect(final.stop_reason).toBe("max_tokens");
    expect(final.usage.output_tokens).toBe(5);
    const { request_id } = await stream.withResponse().then((r) => ({ request_id: r.request_id }));
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(e).toMatchObject({ model: "claude-haiku-4-5", streamed: true, outputTokens: 5, inputTokens: final.usage.input_tokens });
  });

  it("counts tokens and lists models", async () => {
    const count = await client.messages.countTokens({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "count me" }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain("claude-opus-4-7");
    expect(ids).not.toContain("gpt-4o");
  });

  it("answers the SDK's error classes for 401, 403, 404, 429 and 529", async () => {
    const bad = new Anthropic({ apiKey: "lk_live_notavalidkeyatallnotavalidkey000000", baseURL: h.url, maxRetries: 0 });
    await expect(bad.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const noScope = new Anthropic({ apiKey: await h.issueKey({ scopes: ["chat"] }), baseURL: h.url, maxRetries: 0 });
    await expect(noScope.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
    await expect(client.messages.create({ model: "nonexistent-model", max_tokens: 5, messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    // Faults ride in the prompt: a client header outside Anthropic's documented set never reaches the upstream.
    const once = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
    await expect(once.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "sim-fault:429" }] })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    const err = await once.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "sim-fault:529" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });
});
