import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inputTokenBound, outputTokenBound, PER_MESSAGE_TOKENS, PER_PDF_PAGE_TOKENS } from "./bounds.js";
import { planScript, promptText } from "./simulator/script.js";

const WINDOW = 200_000;

/** What the simulator bills for a body's prompt: uncached input plus both cached parts. */
function simulatedInput(body: unknown): number {
  const text = JSON.stringify(body);
  const s = planScript(text, {}, null, promptText(body));
  return s.inputTokens + s.cacheRead + s.cacheWrite;
}

function bound(body: unknown, window = WINDOW): number {
  const b = inputTokenBound(body, Buffer.byteLength(JSON.stringify(body)), window);
  if (typeof b !== "number") throw new Error(b.unbounded);
  return b;
}

/** A PDF with uncompressed page objects and some filler per page (the shape of a scanned document). */
function pdf(pages: number, filler: string): string {
  const objects = Array.from({ length: pages }, (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R >> stream ${filler} endstream endobj`);
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Count ${pages} >> endobj\n${objects.join("\n")}\n%%EOF`).toString("base64");
}

const text = fc.string({ unit: "binary", maxLength: 400 });
const base64 = fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString("base64"));
const cacheAsk = fc.constantFrom("", " sim-cache-read:100000", " sim-cache-write:100000", " sim-cache-read:50 sim-cache-write:90000");
const anthropicPart = fc.oneof(
  text.map((t) => ({ type: "text", text: t })),
  base64.map((d) => ({ type: "image", source: { type: "base64", media_type: "image/png", data: d } })),
  fc.tuple(fc.integer({ min: 1, max: 5 }), text).map(([n, f]) => ({ type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf(n, f) } })),
  base64.map((d) => ({ type: "document", source: { type: "text", media_type: "text/plain", data: d } })),
  fc.webUrl().map((u) => ({ type: "document", source: { type: "url", url: u } })),
);
const geminiPart = fc.oneof(
  text.map((t) => ({ text: t })),
  fc.tuple(fc.constantFrom("text/plain", "image/jpeg", "audio/wav", "video/mp4"), base64).map(([m, d]) => ({ inlineData: { mimeType: m, data: d } })),
  fc.webUrl().map((u) => ({ fileData: { mimeType: "application/pdf", fileUri: u } })),
);
const openaiPart = fc.oneof(
  text.map((t) => ({ type: "text", text: t })),
  base64.map((d) => ({ type: "image_url", image_url: { url: `data:image/png;base64,${d}` } })),
  base64.map((d) => ({ type: "input_audio", input_audio: { data: d, format: "wav" } })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), text).map(([n, f]) => ({ type: "file", file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${pdf(n, f)}` } })),
);
const schema = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, fc.record({ type: fc.constant("string"), description: text }), fc.dictionary(text, tie("node"), { maxKeys: 4 })),
})).node;
/** Content wrapped in many levels of nesting (past any depth cut-off). */
const nested = fc.tuple(fc.integer({ min: 1, max: 300 }), text).map(([depth, t]) => {
  let v: unknown = t;
  for (let i = 0; i < depth; i++) v = [{ x: v }];
  return v;
});

const anthropicBody = fc.record({
  messages: fc.array(fc.record({ role: fc.constant("user"), content: fc.array(anthropicPart, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
  tools: fc.array(fc.record({ name: fc.string(), description: text, input_schema: schema }), { maxLength: 3 }),
  system: fc.oneof(text, nested),
  metadata: fc.record({ user_id: cacheAsk }),
}).map((b) => ({ model: "claude-sonnet-4-6", max_tokens: 100, ...b }));
const geminiBody = fc.record({
  contents: fc.array(fc.record({ role: fc.constant("user"), parts: fc.array(geminiPart, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
  tools: fc.array(fc.record({ functionDeclarations: fc.array(fc.record({ name: fc.string(), parameters: schema }), { maxLength: 2 }) }), { maxLength: 2 }),
  cache: cacheAsk,
});
const openaiBody = fc.record({
  messages: fc.array(fc.record({ role: fc.constant("user"), content: fc.array(openaiPart, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
  tools: fc.array(fc.record({ type: fc.constant("function"), function: fc.record({ name: fc.string(), parameters: schema }) }), { maxLength: 3 }),
  user: cacheAsk,
  extra: nested,
}).map((b) => ({ model: "gpt-4o", ...b }));

describe("input token bound", () => {
  it("bounds input by the body's bytes plus a per-message allowance", () => {
    const body = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "héllo" }] };
    expect(bound(body)).toBe(Buffer.byteLength(JSON.stringify(body)) + PER_MESSAGE_TOKENS);
  });

  it("is never below what the simulator bills, for generated bodies of all three APIs and every content kind", () => {
    fc.assert(fc.property(fc.oneof(anthropicBody, geminiBody, openaiBody), (body) => {
      expect(bound(body)).toBeGreaterThanOrEqual(simulatedInput(body));
    }), { numRuns: 300 });
  });

  it("grows with base64 documents and inline data instead of a fixed allowance", () => {
    const big = Buffer.alloc(1_000_000, 7).toString("base64");
    const anthropic = { messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf(3, big) } }] }] };
    expect(bound(anthropic)).toBeGreaterThanOrEqual(big.length + 3 * PER_PDF_PAGE_TOKENS);
    const gemini = { contents: [{ parts: [{ inlineData: { mimeType: "text/plain", data: big } }] }] };
    expect(bound(gemini)).toBeGreaterThanOrEqual(big.length);
  });

  it("counts content past any nesting depth", () => {
    // Built as text: JSON.stringify itself overflows the stack at this depth.
    const raw = `{"messages":[{"role":"user","content":"hi"}],"metadata":${'{"a":['.repeat(5_000)}"${"x".repeat(10_000)}"${"]}".repeat(5_000)}}`;
    const body: unknown = JSON.parse(raw);
    expect(inputTokenBound(body, raw.length, WINDOW)).toBeGreaterThan(10_000);
    // A depth-limited walk met no PDF down there; this one counts its pages.
    const deepPdf = `{"contents":${"[".repeat(3_000)}{"inlineData":{"mimeType":"application/pdf","data":"${pdf(7, "")}"}}${"]".repeat(3_000)}}`;
    expect(inputTokenBound(JSON.parse(deepPdf), deepPdf.length, WINDOW)).toBeGreaterThanOrEqual(7 * PER_PDF_PAGE_TOKENS);
  });

  it("takes the context window for content the body only points at, and refuses when there is none", () => {
    const url = { messages: [{ role: "user", content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }] }] };
    expect(bound(url)).toBe(WINDOW);
    expect(inputTokenBound(url, 100, 0)).toMatchObject({ unbounded: expect.stringMatching(/URL or file id/) });
    const packed = Buffer.from("%PDF-1.7\n1 0 obj << /Type /ObjStm /N 40 >> stream xx endstream").toString("base64");
    const hidden = { contents: [{ parts: [{ inlineData: { mimeType: "application/pdf", data: packed } }] }] };
    expect(bound(hidden)).toBe(WINDOW);
    expect(bound({ input: "x", previous_response_id: "resp_1" })).toBe(WINDOW);
  });

  it("refuses server-side tools, which read input no bound holds", () => {
    for (const body of [
      { messages: [], tools: [{ type: "web_search_20250305", name: "web_search" }] },
      { input: "x", tools: [{ type: "file_search" }] },
      { contents: [], tools: [{ googleSearch: {} }] },
    ]) expect(inputTokenBound(body, 100, WINDOW)).toMatchObject({ unbounded: expect.any(String) });
    // The caller's own tools are bounded by their schemas.
    expect(typeof inputTokenBound({ messages: [], tools: [{ name: "f", input_schema: {} }, { type: "bash_20250124", name: "bash" }] }, 100, WINDOW)).toBe("number");
  });
});

describe("output token bound", () => {
  it("takes the output bound from each dialect's field, capped by the model", () => {
    expect(outputTokenBound("messages", { max_tokens: 100 }, 64_000)).toBe(100);
    expect(outputTokenBound("chat", {}, 16_384)).toBe(16_384);
    expect(outputTokenBound("responses", { max_output_tokens: 1e9 }, 1000)).toBe(1000);
    expect(outputTokenBound("generate", { generationConfig: { maxOutputTokens: 7 } }, 1000)).toBe(7);
    expect(outputTokenBound("embeddings", { max_tokens: 5 }, 0)).toBe(0);
  });
});

describe("simulator caps", () => {
  it("cap output tokens and delays for the built-in simulator, and cached tokens at the prompt's size", () => {
    const caps = { maxOutputTokens: 100, maxDelayMs: 50 };
    const s = planScript("sim-tokens:4000000 sim-delay:999999999 sim-cache-read:99999999", {}, null, "short", caps);
    expect(s.words.length).toBe(100);
    expect(s.delayMs).toBe(50);
    expect(s.cacheRead).toBeLessThanOrEqual(s.inputTokens);
    expect(planScript("x", { "x-simulator-delay-ms": "86400000" }, null, "x", caps).delayMs).toBe(50);
    expect(planScript("sim-tokens:5000", {}, null, "x").words.length).toBe(5000);
  });
});
