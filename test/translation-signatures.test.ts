/**
 * Signed reasoning through the gateway with the official SDKs: a provider stand-in answers a tool
 * call with signed reasoning (an Anthropic thinking block, a Gemini thought signature on the
 * function call); the client, of another dialect, replays the assistant turn exactly as its SDK
 * gave it, and the provider must receive its own signature back, unmodified and where it was.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, type Content } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support/gateway-harness.js";

const GEMINI_SIG = "CiQBjz1rX0gemini+signature/==";
const ANTHROPIC_SIG = "EqQBCkYIBRgCKkBanthropic+signature==";
const TOOL_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

let h: Harness;
let up: Server;
const received: { path: string; body: any }[] = [];

/** First turn: a signed tool call; a turn that carries the tool's result: a plain answer. */
function answer(path: string, body: any): { type: string; text: string } {
  const second = /functionResponse|tool_result/.test(JSON.stringify(body));
  const stream = body.stream === true || path.includes("streamGenerateContent");
  if (path.endsWith("/v1/messages")) {
    const usage = { input_tokens: 20, output_tokens: 10 };
    const content = second ? [{ type: "text", text: "It is 18C." }]
      : [{ type: "thinking", thinking: "The user wants the weather.", signature: ANTHROPIC_SIG }, { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } }];
    const message = { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-6", content, stop_reason: second ? "end_turn" : "tool_use", stop_sequence: null, usage };
    if (!stream) return { type: "application/json", text: JSON.stringify(message) };
    const ev = (d: any) => `event: ${d.type}\ndata: ${JSON.stringify(d)}\n\n`;
    let out = ev({ type: "message_start", message: { ...message, content: [], stop_reason: null } });
    content.forEach((b: any, index) => {
      if (b.type === "thinking") {
        out += ev({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "" } });
        out += ev({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: b.thinking } });
        out += ev({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: b.signature } });
      } else if (b.type === "tool_use") {
        out += ev({ type: "content_block_start", index, content_block: { ...b, input: {} } });
        out += ev({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } });
      } else {
        out += ev({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
        out += ev({ type: "content_block_delta", index, delta: { type: "text_delta", text: b.text } });
      }
      out += ev({ type: "content_block_stop", index });
    });
    out += ev({ type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage });
    return { type: "text/event-stream", text: out + ev({ type: "message_stop" }) };
  }
  const parts = second ? [{ text: "It is 18C." }] : [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: GEMINI_SIG }];
  const chunk = { responseId: "r1", modelVersion: "gemini-2.5-flash", candidates: [{ index: 0, finishReason: "STOP", content: { role: "model", parts } }], usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 10, totalTokenCount: 30 } };
  return stream ? { type: "text/event-stream", text: `data: ${JSON.stringify(chunk)}\n\n` } : { type: "application/json", text: JSON.stringify(chunk) };
}

beforeAll(async () => {
  up = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = text ? JSON.parse(text) : {};
      received.push({ path: req.url ?? "", body });
      const a = answer(req.url ?? "", body);
      res.writeHead(200, { "content-type": a.type });
      res.end(a.text);
    });
  });
  await new Promise<void>((r) => up.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-signatures-0001", { baseUrl: url });
  await h.addCredential("gemini", "AIza-signatures-0001", { baseUrl: url });
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((r) => { up.closeAllConnections(); up.close(() => r()); });
});

/** The body the provider stand-in received last. */
const last = () => received.at(-1)!.body;
/** The Gemini model turn the provider received back. */
const modelParts = () => (last().contents as any[]).find((c) => c.role === "model").parts as any[];
/** The Anthropic assistant turn the provider received back. */
const assistantBlocks = () => (last().messages as any[]).find((m) => m.role === "assistant").content as any[];

describe("a Gemini function call's thought signature comes back on that call", () => {
  for (const stream of [false, true]) {
    it(`through the Anthropic SDK (${stream ? "stream" : "JSON"})`, async () => {
      const client = new Anthropic({ apiKey: await h.issueKey(), baseURL: h.url, maxRetries: 0 });
      const body: any = { model: "gemini-2.5-flash", max_tokens: 200, tools: [{ name: "get_weather", input_schema: TOOL_SCHEMA }], messages: [{ role: "user", content: "Weather in Paris?" }] };
      const first = stream ? await client.messages.stream(body).finalMessage() : await client.messages.create(body);
      const call = first.content.find((b) => b.type === "tool_use")!;
      expect(call).toBeDefined();
      await client.messages.create({ ...body, messages: [...body.messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] }] });
      expect(modelParts()).toEqual([expect.objectContaining({ functionCall: expect.objectContaining({ name: "get_weather" }), thoughtSignature: GEMINI_SIG })]);
    });
  }

  it("through the OpenAI SDK's Chat Completions, replaying the assistant message as it came", async () => {
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "gemini-2.5-flash", tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL_SCHEMA } }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.chat.completions.create(body);
    const message = first.choices[0]!.message;
    await client.chat.completions.create({ ...body, messages: [...body.messages, message, { role: "tool", tool_call_id: message.tool_calls![0]!.id, content: "18C" }] });
    expect(modelParts()).toEqual([expect.objectContaining({ thoughtSignature: GEMINI_SIG })]);
  });

  it("through the OpenAI SDK's Responses, replaying the output items", async () => {
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "gemini-2.5-flash", tools: [{ type: "function", name: "get_weather", parameters: TOOL_SCHEMA, strict: false }], input: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.responses.create(body);
    const call = first.output.find((o) => o.type === "function_call")!;
    await client.responses.create({ ...body, input: [...body.input, ...first.output, { type: "function_call_output", call_id: call.call_id, output: "18C" }] });
    expect(modelParts()).toEqual([expect.objectContaining({ thoughtSignature: GEMINI_SIG })]);
  });
});

describe("an Anthropic thinking block comes back unmodified, before the tool call", () => {
  const want = [
    { type: "thinking", thinking: "The user wants the weather.", signature: ANTHROPIC_SIG },
    expect.objectContaining({ type: "tool_use", name: "get_weather" }),
  ];

  for (const stream of [false, true]) {
    it(`through the Gemini SDK (${stream ? "stream" : "JSON"})`, async () => {
      const ai = new GoogleGenAI({ apiKey: await h.issueKey(), httpOptions: { baseUrl: h.url } });
      const config = { tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: TOOL_SCHEMA }] }], automaticFunctionCalling: { disable: true } };
      const contents: Content[] = [{ role: "user", parts: [{ text: "Weather in Paris?" }] }];
      const parts: any[] = [];
      if (stream) for await (const c of await ai.models.generateContentStream({ model: "claude-sonnet-4-6", contents, config })) parts.push(...(c.candidates?.[0]?.content?.parts ?? []));
      else parts.push(...((await ai.models.generateContent({ model: "claude-sonnet-4-6", contents, config })).candidates![0]!.content!.parts!));
      const call = parts.find((p) => p.functionCall).functionCall;
      await ai.models.generateContent({
        model: "claude-sonnet-4-6", config,
        contents: [...contents, { role: "model", parts }, { role: "user", parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: "18C" } } }] }],
      });
      expect(assistantBlocks()).toEqual(want);
    });
  }

  it("through the OpenAI SDK's Responses (streamed), replaying the output items", async () => {
    const client = new OpenAI({ apiKey: await h.issueKey(), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "claude-sonnet-4-6", tools: [{ type: "function", name: "get_weather", parameters: TOOL_SCHEMA, strict: false }], input: [{ role: "user", content: "Weather in Paris?" }], include: ["reasoning.encrypted_content"] };
    let output: any[] = [];
    const events = await client.responses.create({ ...body, stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
    for await (const ev of events) if (ev.type === "response.completed") output = ev.response.output;
    const call = output.find((o) => o.type === "function_call");
    await client.responses.create({ ...body, input: [...body.input, ...output, { type: "function_call_output", call_id: call.call_id, output: "18C" }] });
    expect(assistantBlocks()).toEqual(want);
  });
});

describe("test keys meet Gemini 3's check of thought signatures, as live keys do", () => {
  it("a Chat Completions tool round trip with gemini-3 works when the client replays the message, and when it drops the signature (Google's stand-in goes instead)", async () => {
    const client = new OpenAI({ apiKey: await h.issueKey({ kind: "test" }), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "gemini-3-pro-preview", tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL_SCHEMA } }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.chat.completions.create(body);
    const message = first.choices[0]!.message as any;
    expect(message.tool_calls[0].extra_content.google.thought_signature).toMatch(/^latchkey\.gemini%2Fgemini-3-pro-preview\./);
    const result = { role: "tool", tool_call_id: message.tool_calls[0].id, content: "18C" };
    const second = await client.chat.completions.create({ ...body, messages: [...body.messages, message, result] });
    expect(second.choices[0]!.message.content).toMatch(/^Hello from the Latchkey simulator/);
    const stripped = { ...message, tool_calls: message.tool_calls.map(({ extra_content: _, ...c }: any) => c) };
    const third = await client.chat.completions.create({ ...body, messages: [...body.messages, stripped, result] });
    expect(third.choices[0]!.message.content).toMatch(/^Hello from the Latchkey simulator/);
  });

  it("a Gemini caller's own history reaches Gemini 3 untouched: a call without its signature, or with another, is refused as Gemini refuses it", async () => {
    const ai = new GoogleGenAI({ apiKey: await h.issueKey({ kind: "test" }), httpOptions: { baseUrl: h.url } });
    const config = { tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: TOOL_SCHEMA }] }], automaticFunctionCalling: { disable: true } };
    const ask: Content = { role: "user", parts: [{ text: "Weather in Paris?" }] };
    const first = (await ai.models.generateContent({ model: "gemini-3-pro-preview", contents: [ask], config })).candidates![0]!.content!;
    const call = first.parts!.find((p) => p.functionCall)!;
    expect(call.thoughtSignature).toBeTruthy();
    const answer: Content = { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { output: "18C" } } }] };
    const replay = (parts: any[]) => ai.models.generateContent({ model: "gemini-3-pro-preview", config, contents: [ask, { role: "model", parts }, answer] });
    expect((await replay(first.parts!)).text).toMatch(/^Hello from the Latchkey simulator/);
    await expect(replay([{ functionCall: call.functionCall }])).rejects.toThrow(/missing a thought_signature/);
    await expect(replay([{ ...call, thoughtSignature: "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ==" }])).rejects.toThrow(/Corrupted thought signature/);
  });

  it("an Anthropic SDK tool round trip with gemini-3 works, streamed", async () => {
    const client = new Anthropic({ apiKey: await h.issueKey({ kind: "test" }), baseURL: h.url, maxRetries: 0 });
    const body: any = { model: "gemini-3-pro-preview", max_tokens: 200, tools: [{ name: "get_weather", input_schema: TOOL_SCHEMA }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.messages.stream(body).finalMessage();
    const call = first.content.find((b) => b.type === "tool_use")!;
    const second = await client.messages.stream({ ...body, messages: [...body.messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] }] }).finalMessage();
    expect(second.content.find((b) => b.type === "text")).toMatchObject({ text: expect.stringMatching(/^Hello from the Latchkey simulator/) });
  });
});

describe("test keys meet Anthropic's check of thinking with tools, as live keys do", () => {
  const tools = [{ name: "get_weather", input_schema: TOOL_SCHEMA }];

  it("the Anthropic SDK: the thinking block must lead the tool call's turn when it comes back", async () => {
    const client = new Anthropic({ apiKey: await h.issueKey({ kind: "test" }), baseURL: h.url, maxRetries: 0 });
    const body: any = { model: "claude-sonnet-4-6", max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2048 }, tools, messages: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.messages.create(body);
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const call = first.content.find((b) => b.type === "tool_use")!;
    const result = { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] };
    const second = await client.messages.create({ ...body, messages: [...body.messages, { role: "assistant", content: first.content }, result] });
    expect(second.stop_reason).toBe("end_turn");
    await expect(client.messages.create({ ...body, messages: [...body.messages, { role: "assistant", content: [call] }, result] }))
      .rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Expected `thinking`/) });
  });

  it("Responses and Gemini callers reasoning with a Claude model: the thinking they were given goes back and passes", async () => {
    const key = await h.issueKey({ kind: "test" });
    const openai = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const rBody: any = { model: "claude-sonnet-4-6", reasoning: { effort: "low" }, tools: [{ type: "function", name: "get_weather", parameters: TOOL_SCHEMA, strict: false }], input: [{ role: "user", content: "Weather in Paris?" }] };
    const r1 = await openai.responses.create(rBody);
    expect(r1.output.map((o) => o.type)).toEqual(["reasoning", "function_call"]);
    const call = r1.output.find((o) => o.type === "function_call")!;
    const r2 = await openai.responses.create({ ...rBody, input: [...rBody.input, ...r1.output, { type: "function_call_output", call_id: call.call_id, output: "18C" }] });
    expect(r2.output_text).toMatch(/^Hello from the Latchkey simulator/);

    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.url } });
    const config = { thinkingConfig: { thinkingBudget: 2048, includeThoughts: true }, tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: TOOL_SCHEMA }] }], automaticFunctionCalling: { disable: true } };
    const contents: Content[] = [{ role: "user", parts: [{ text: "Weather in Paris?" }] }];
    const g1 = await ai.models.generateContent({ model: "claude-sonnet-4-6", contents, config });
    const parts = g1.candidates![0]!.content!.parts!;
    const fc = parts.find((p) => p.functionCall)!.functionCall!;
    const g2 = await ai.models.generateContent({ model: "claude-sonnet-4-6", config, contents: [...contents, { role: "model", parts }, { role: "user", parts: [{ functionResponse: { id: fc.id, name: fc.name, response: { output: "18C" } } }] }] });
    expect(g2.text).toMatch(/^Hello from the Latchkey simulator/);
  });
});
