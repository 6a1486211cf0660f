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
    expect(await status(ai.models.generateContent({ ...req, model: "gemini-0-nope" }))).toBe(404);
    expect(await status(make(key, { "x-simulator-fault": "429" }).models.generateContent(req))).toBe(429);
    expect(await status(make(key, { "x-simulator-fault": "503" }).models.generateContent(req))).toBe(503);
  });
});
