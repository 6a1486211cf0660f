/**
 * Agents against the simulator on live keys (the simulator as each provider's credential) and on
 * test keys: tool calls with arguments fitting the declared schema, the tool round trip back to
 * text, structured output that validates, JSON and streamed, usage recorded as the client saw it.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, Type } from "@google/genai";
import { Ajv2020 } from "ajv/dist/2020.js";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

const ajv = new Ajv2020({ strict: false, validateFormats: false });
const WEATHER = {
  type: "object" as const, additionalProperties: false, required: ["city", "unit", "days"],
  properties: { city: { type: "string", minLength: 3 }, unit: { type: "string", enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 2, maximum: 5 } },
};
const REPORT = { type: "object" as const, additionalProperties: false, required: ["title", "scores"], properties: { title: { type: "string" }, scores: { type: "array", items: { type: "number", minimum: 0, maximum: 1 }, minItems: 2 } } };

function valid(schema: object, value: unknown): boolean {
  const ok = ajv.validate(schema, value);
  if (!ok) throw new Error(`${JSON.stringify(value)} does not fit: ${ajv.errorsText()}`);
  return ok;
}

let h: Harness;
let live: string;
let test: string;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-agents-0001");
  await h.addCredential("openai", "sk-openai-agents-0001");
  await h.addCredential("gemini", "AIza-agents-0001");
  live = await h.issueKey();
  test = await h.issueKey({ kind: "test" });
});
afterAll(async () => h?.close());

const recorded = (id: string | null | undefined) => eventually(async () => (await h.usage()).find((e) => e.id === id));

describe("Anthropic Messages", () => {
  const tools = [{ name: "get_weather", description: "weather", input_schema: WEATHER }, { name: "other", input_schema: { type: "object" as const } }];

  it("calls the first tool with fitting input, then answers the tool result in text (live and test keys)", async () => {
    for (const key of [live, test]) {
      const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
      const messages: Anthropic.MessageParam[] = [{ role: "user", content: "weather in Paris?" }];
      const { data: first, request_id } = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 200, tools, messages }).withResponse();
      expect(first.stop_reason).toBe("tool_use");
      const use = first.content.find((b) => b.type === "tool_use")!;
      expect(use).toMatchObject({ type: "tool_use", name: "get_weather" });
      expect(valid(WEATHER, use.input)).toBe(true);
      expect((await recorded(request_id)).outputTokens).toBe(first.usage.output_tokens);
      messages.push({ role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] });
      const second = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 200, tools, messages });
      expect(second.stop_reason).toBe("end_turn");
      expect(second.content[0]).toMatchObject({ type: "text" });
    }
  });

  it("streams the input as input_json_delta pieces and bills one token a piece", async () => {
    const client = new Anthropic({ apiKey: live, baseURL: h.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 200, tools, tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "x" }] });
    let pieces = 0;
    stream.on("inputJson", () => pieces++);
    const final = await stream.finalMessage();
    const use = final.content.find((b) => b.type === "tool_use")!;
    expect(valid(WEATHER, use.input)).toBe(true);
    expect(pieces).toBeGreaterThan(1);
    expect(final.usage.output_tokens).toBe(pieces);
    expect((await recorded(stream.request_id)).outputTokens).toBe(pieces);
  });

  it("answers in text when tools are forbidden, and in JSON fitting output_format when asked", async () => {
    const client = new Anthropic({ apiKey: live, baseURL: h.url, maxRetries: 0 });
    const none = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 50, tools, tool_choice: { type: "none" }, messages: [{ role: "user", content: "x" }] });
    expect(none.content[0]).toMatchObject({ type: "text" });
    const body = { model: "claude-haiku-4-5", max_tokens: 300, messages: [{ role: "user", content: "report" }], output_format: { type: "json_schema", schema: REPORT } };
    const r = await fetch(`${h.url}/v1/messages`, { method: "POST", headers: { "x-api-key": live, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: JSON.stringify(body) });
    const msg = (await r.json()) as { content: { text: string }[] };
    expect(valid(REPORT, JSON.parse(msg.content[0]!.text))).toBe(true);
  });
});

describe("OpenAI Chat Completions and Responses", () => {
  const chatTools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }];

  it("makes a tool call, streams its argument deltas, and answers the tool message in text", async () => {
    const client = new OpenAI({ apiKey: live, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const first = await client.chat.completions.create({ model: "gpt-4o", tools: chatTools, messages: [{ role: "user", content: "weather?" }] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call.type === "function" && valid(WEATHER, JSON.parse(call.function.arguments))).toBe(true);

    const { data: stream, request_id } = await client.chat.completions.create({ model: "gpt-4o", stream: true, tools: chatTools, messages: [{ role: "user", content: "weather?" }] }).withResponse();
    let args = "";
    let deltas = 0;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) if (t.function?.arguments) { args += t.function.arguments; deltas++; }
    }
    expect(valid(WEATHER, JSON.parse(args))).toBe(true);
    expect((await recorded(request_id)).outputTokens).toBe(deltas);

    const done = await client.chat.completions.create({
      model: "gpt-4o", tools: chatTools,
      messages: [{ role: "user", content: "weather?" }, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "sunny" }],
    });
    expect(done.choices[0]!.finish_reason).toBe("stop");
    expect(done.choices[0]!.message.content).toContain("Latchkey simulator");
  });

  it("answers response_format json_schema with JSON that validates, streamed too (test key)", async () => {
    const client = new OpenAI({ apiKey: test, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const response_format = { type: "json_schema" as const, json_schema: { name: "report", strict: true, schema: REPORT } };
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", response_format, messages: [{ role: "user", content: "report" }] });
    expect(valid(REPORT, JSON.parse(r.choices[0]!.message.content!))).toBe(true);
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", stream: true, response_format, messages: [{ role: "user", content: "report" }] });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(valid(REPORT, JSON.parse(text))).toBe(true);
  });

  it("Responses: function_call items with argument deltas, the output round trip, and text.format json_schema", async () => {
    const client = new OpenAI({ apiKey: live, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const tools: OpenAI.Responses.Tool[] = [{ type: "function", name: "get_weather", parameters: WEATHER, strict: true }];
    const first = await client.responses.create({ model: "gpt-5", tools, input: "weather?" });
    const call = first.output.find((o) => o.type === "function_call")!;
    expect(call.type === "function_call" && valid(WEATHER, JSON.parse(call.arguments))).toBe(true);
    const stream = await client.responses.create({ model: "gpt-5", tools, input: "weather?", stream: true });
    let args = "";
    let usage = -1;
    for await (const e of stream) {
      if (e.type === "response.function_call_arguments.delta") args += e.delta;
      if (e.type === "response.completed") usage = e.response.usage!.output_tokens;
    }
    expect(valid(WEATHER, JSON.parse(args))).toBe(true);
    expect(usage).toBeGreaterThan(1);
    if (call.type !== "function_call") throw new Error("no call");
    const done = await client.responses.create({ model: "gpt-5", tools, input: [{ role: "user", content: "weather?" }, call, { type: "function_call_output", call_id: call.call_id, output: "sunny" }] });
    expect(done.output_text).toContain("Latchkey simulator");
    const structured = await client.responses.create({ model: "gpt-5", input: "report", text: { format: { type: "json_schema", name: "report", schema: REPORT, strict: true } } });
    expect(valid(REPORT, JSON.parse(structured.output_text))).toBe(true);
  });
});

describe("Gemini generateContent", () => {
  it("calls a declared function with fitting args, answers the functionResponse, and honours responseJsonSchema and responseSchema", async () => {
    for (const key of [live, test]) {
      const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.url } });
      const config = { tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: WEATHER }] }] };
      const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "weather?", config });
      const call = r.functionCalls![0]!;
      expect(call.name).toBe("get_weather");
      expect(valid(WEATHER, call.args)).toBe(true);
      const back = await ai.models.generateContent({
        model: "gemini-2.5-flash", config,
        contents: [{ role: "user", parts: [{ text: "weather?" }] }, { role: "model", parts: [{ functionCall: call }] }, { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { sky: "sunny" } } }] }],
      });
      expect(back.text).toContain("Latchkey simulator");
      const stream = await ai.models.generateContentStream({ model: "gemini-2.5-pro", contents: "weather?", config });
      const calls = [];
      for await (const c of stream) calls.push(...(c.functionCalls ?? []));
      expect(calls).toHaveLength(1);
      const json = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "report", config: { responseMimeType: "application/json", responseJsonSchema: REPORT } });
      expect(valid(REPORT, JSON.parse(json.text!))).toBe(true);
      const typed = await ai.models.generateContent({
        model: "gemini-2.5-flash", contents: "report",
        config: { responseMimeType: "application/json", responseSchema: { type: Type.OBJECT, properties: { n: { type: Type.INTEGER }, tags: { type: Type.ARRAY, items: { type: Type.STRING } } }, required: ["n", "tags"] } },
      });
      expect(JSON.parse(typed.text!)).toEqual({ n: 1, tags: ["simulated"] });
    }
  });
});
