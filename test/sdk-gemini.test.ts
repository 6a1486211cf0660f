import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let key: string;
let ai: GoogleGenAI;

const make = (apiKey: string, headers: Record<string, string> = {}) =>
  new GoogleGenAI({ apiKey, httpOptions: { baseUrl: h.url, headers } });

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("gemini", "AIzaSyUpstreamSecretGeminiKey0000000000");
  key = await h.issueKey();
  ai = make(key);
});
afterAll(async () => h?.close());

describe("official Google GenAI SDK against the gateway", () => {
  it("generates content and records usage", async () => {
    const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Hello" });
    expect(r.text).toContain("Hello from the Latchkey simulator");
    expect(r.usageMetadata?.candidatesTokenCount).toBe(12);
    const e = await eventually(async () => (await h.usage()).find((x) => x.endpoint === "generate"));
    expect(e).toMatchObject({ provider: "gemini", model: "gemini-2.5-flash", outputTokens: 12, inputTokens: r.usageMetadata!.promptTokenCount });
    // $0.30 in / $2.50 out per million
    expect(e.costNano).toBe(e.inputTokens * 300 + 12 * 2500);
  });

  it("streams content (alt=sse) and meters the last usageMetadata", async () => {
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-pro", contents: "Stream" });
    let text = "";
    for await (const c of stream) text += c.text ?? "";
    expect(text).toContain("Hello from the Latchkey simulator");
    const e = await eventually(async () => (await h.usage()).find((x) => x.endpoint === "stream_generate"));
    expect(e).toMatchObject({ model: "gemini-2.5-pro", streamed: true, outputTokens: 12 });
  });

  it("counts tokens and lists models", async () => {
    const c = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "count me" });
    expect(c.totalTokens).toBeGreaterThan(0);
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? "");
    expect(names).toContain("models/gemini-2.5-pro");
    expect(names).not.toContain("models/claude-opus-4-7");
  });

  it("speaks Gemini API v1 (the SDK's default) and v1beta alike", async () => {
    const seen: string[] = [];
    const probe = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.url, apiVersion: "v1beta" } });
    for (const client of [ai, probe]) {
      const r = await client.models.generateContent({ model: "gemini-2.5-flash", contents: "Hello" });
      expect(r.text).toContain("Latchkey simulator");
      seen.push(r.sdkHttpResponse?.headers?.["x-request-id"] ?? "");
    }
    const events = await eventually(async () => { const e = (await h.usage()).filter((x) => seen.includes(x.id)); return e.length === 2 ? e : null; });
    expect(events.every((e) => e.status === 200 && e.outputTokens === 12)).toBe(true);
    // The v1 list is Gemini's own shape when Google's SDK asks (its key header), not OpenAI's.
    const v1 = await fetch(`${h.url}/v1/models`, { headers: { "x-goog-api-key": key } });
    const body = (await v1.json()) as { models?: { name: string }[] };
    expect(body.models?.map((m) => m.name)).toContain("models/gemini-2.5-pro");
    const asOpenAI = (await (await fetch(`${h.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { object: string };
    expect(asOpenAI.object).toBe("list");
  });

  it("embeds one text and a batch, and meters both", async () => {
    const one = await ai.models.embedContent({ model: "gemini-embedding-001", contents: "embed me" });
    expect(one.embeddings?.[0]?.values?.length).toBe(8);
    const many = await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["first text", "second text", "third"] });
    expect(many.embeddings).toHaveLength(3);
    const single = await fetch(`${h.url}/v1/models/gemini-embedding-001:embedContent`, {
      method: "POST", headers: { "x-goog-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ content: { parts: [{ text: "one" }] } }),
    });
    expect(single.status).toBe(200);
    expect(((await single.json()) as { embedding: { values: number[] } }).embedding.values).toHaveLength(8);
    const events = await eventually(async () => { const e = (await h.usage()).filter((x) => x.model === "gemini-embedding-001"); return e.length === 3 ? e : null; });
    expect(events.map((e) => e.endpoint).sort()).toEqual(["batch_embed_contents", "batch_embed_contents", "embed_content"]);
    for (const e of events) {
      expect(e.inputTokens).toBeGreaterThan(0);
      expect(e.costNano).toBe(e.inputTokens * 150); // $0.15 per million input tokens
    }
    // A key without the embeddings scope is refused in Gemini's shape.
    const chatOnly = make(await h.issueKey({ scopes: ["gemini"] }));
    await expect(chatOnly.models.embedContent({ model: "gemini-embedding-001", contents: "x" })).rejects.toMatchObject({ status: 403 });
  });

  it("answers errors the SDK reports with their statuses", async () => {
    const status = async (p: Promise<unknown>) => {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      return (e as ApiError).status;
    };
    const req = { model: "gemini-2.5-flash", contents: "x" };
    // Google answers a bad key with 400 INVALID_ARGUMENT (API_KEY_INVALID).
    expect(await status(make("AIzaNotOurs").models.generateContent(req))).toBe(400);
    expect(await status(make(await h.issueKey({ scopes: ["chat"] })).models.generateContent(req))).toBe(403);
    expect(await status(ai.models.generateContent({ ...req, model: "palm-0-nope" }))).toBe(404);
    // A gemini-* name the catalog cannot price is refused by default (the open catalog's rule).
    expect(await status(ai.models.generateContent({ ...req, model: "gemini-0-nope" }))).toBe(400);
    // Faults ride in the prompt: a client header outside Gemini's documented set never reaches the upstream.
    expect(await status(make(key).models.generateContent({ ...req, contents: "sim-fault:429" }))).toBe(429);
    expect(await status(make(key).models.generateContent({ ...req, contents: "sim-fault:503" }))).toBe(503);
  });
});
