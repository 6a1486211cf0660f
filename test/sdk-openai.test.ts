import OpenAI6 from "openai";
import { VERSION as VERSION6 } from "openai/version";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

// On Node 22 and later (the suite's Node 24 run) this suite runs the newest major, openai 7 (the
// `openai-next` devDependency), which needs Node 22; on Node 20, openai 6.
const NEWEST = Number(process.versions.node.split(".")[0]) >= 22;
const OpenAI: typeof OpenAI6 = NEWEST ? ((await import("openai-next")).default as unknown as typeof OpenAI6) : OpenAI6;
const VERSION = NEWEST ? (await import("openai-next/version")).VERSION : VERSION6;
type OpenAI = OpenAI6;

let h: Harness;
let key: string;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("openai", "sk-proj-upstream-secret-openai");
  key = await h.issueKey();
  client = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => h?.close());

const usageOf = (id: string | null | undefined) => eventually(async () => (await h.usage()).find((e) => e.id === id));

describe("official OpenAI SDK against the gateway", () => {
  it(`runs the newest major the runtime supports (Node ${process.versions.node}: openai ${NEWEST ? 7 : 6})`, () => {
    expect(VERSION).toMatch(NEWEST ? /^7\./ : /^6\./);
  });

  it("creates a chat completion and records usage and cost", async () => {
    const { data, request_id } = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] }).withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.message.content).toContain("Hello");
    const e = await usageOf(request_id);
    expect(e).toMatchObject({ provider: "openai", model: "gpt-4o-mini", endpoint: "chat", inputTokens: data.usage!.prompt_tokens, outputTokens: data.usage!.completion_tokens });
    // $0.15 in / $0.60 out per million
    expect(e.costNano).toBe(Math.ceil(data.usage!.prompt_tokens * 150) + data.usage!.completion_tokens * 600);
  });

  it("streams without include_usage: the injected usage chunk is stripped but usage is recorded", async () => {
    const { data: stream, request_id } = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Stream" }], stream: true }).withResponse();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? "").join("")).toContain("Hello from the Latchkey simulator");
    const e = await usageOf(request_id);
    expect(e).toMatchObject({ model: "gpt-4o", streamed: true, outputTokens: 12 });
    expect(e.inputTokens).toBeGreaterThan(0);
  });

  it("streams with include_usage: the client gets its usage chunk", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Stream" }], stream: true, stream_options: { include_usage: true } });
    let usage = null;
    for await (const c of stream) if (c.usage) usage = c.usage;
    expect(usage).toMatchObject({ completion_tokens: 12 });
  });

  it("creates embeddings (base64, the SDK's default) and responses, JSON and streamed", async () => {
    const emb = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "bb"] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]!.embedding).toHaveLength(8);
    const resp = await client.responses.create({ model: "gpt-5", input: "Say hi" });
    expect(resp.output_text).toContain("Hello");
    expect(resp.usage?.output_tokens).toBe(12);
    const { data: rs, request_id } = await client.responses.create({ model: "gpt-5", input: "Say hi", stream: true }).withResponse();
    const types: string[] = [];
    for await (const ev of rs) types.push(ev.type);
    expect(types.at(-1)).toBe("response.completed");
    const e = await usageOf(request_id);
    expect(e).toMatchObject({ endpoint: "responses", outputTokens: 12, streamed: true });
  });

  it("lists only the models the key may use", async () => {
    const limited = new OpenAI({ apiKey: await h.issueKey({ allowedModels: ["gpt-4o*"] }), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ids = [];
    for await (const m of limited.models.list()) ids.push(m.id);
    expect(ids.sort()).toEqual(["gpt-4o", "gpt-4o-mini"]);
  });

  it("answers the SDK's error classes for 401, 403, 404, 429 and 503", async () => {
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: "x" }] };
    await expect(new OpenAI({ apiKey: "sk-not-ours", baseURL: `${h.url}/v1`, maxRetries: 0 }).chat.completions.create(body)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const embedOnly = new OpenAI({ apiKey: await h.issueKey({ scopes: ["embeddings"] }), baseURL: `${h.url}/v1`, maxRetries: 0 });
    await expect(embedOnly.chat.completions.create(body)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const err404 = await client.chat.completions.create({ ...body, model: "unknown-model" }).catch((e: unknown) => e);
    expect(err404).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err404 as InstanceType<typeof OpenAI.APIError>).code).toBe("model_not_found");
    // Faults ride in the prompt: a client header outside OpenAI's documented set never reaches the upstream.
    const faulty = (f: string) => ({ ...body, messages: [{ role: "user" as const, content: `sim-fault:${f}` }] });
    await expect(client.chat.completions.create(faulty("429"))).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const err503 = await client.chat.completions.create(faulty("503")).catch((e: unknown) => e);
    expect(err503).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err503 as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
  });
});
