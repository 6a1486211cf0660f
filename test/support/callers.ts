/**
 * One call through each caller dialect with its official Node SDK, reduced to what a conformance
 * test compares: the text, the tool calls, the usage the client saw (total input, cache reads and
 * writes, output) and the request id the gateway answered with.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";

export type CallerDialect = "anthropic" | "chat" | "responses" | "gemini";
export const CALLERS: CallerDialect[] = ["anthropic", "chat", "responses", "gemini"];

export interface ToolCall { id: string; name: string; args: Record<string, unknown> }
export interface Seen {
  text: string;
  calls: ToolCall[];
  /** Input tokens in total, cached ones included, as the client can add them up. */
  input: number;
  cacheRead: number;
  output: number;
  requestId: string | null;
  stop: string;
}

/** A two-turn tool conversation in neutral terms: the question, then (optionally) the call and its result. */
export interface Turn {
  prompt: string;
  tool?: { name: string; description: string; schema: Record<string, unknown> };
  result?: { call: ToolCall; output: string };
}

export interface CallerSdks { anthropic: Anthropic; openai: OpenAI; gemini: GoogleGenAI }

export function sdks(url: string, key: string): CallerSdks {
  return {
    anthropic: new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 }),
    openai: new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 }),
    gemini: new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: url, apiVersion: "v1beta" } }),
  };
}

export async function call(c: CallerDialect, s: CallerSdks, model: string, stream: boolean, t: Turn): Promise<Seen> {
  switch (c) {
    case "anthropic": return viaAnthropic(s.anthropic, model, stream, t);
    case "chat": return viaChat(s.openai, model, stream, t);
    case "responses": return viaResponses(s.openai, model, stream, t);
    case "gemini": return viaGemini(s.gemini, model, stream, t);
  }
}

async function viaAnthropic(client: Anthropic, model: string, stream: boolean, t: Turn): Promise<Seen> {
  const messages: any[] = [{ role: "user", content: t.prompt }];
  if (t.result) {
    messages.push({ role: "assistant", content: [{ type: "tool_use", id: t.result.call.id, name: t.result.call.name, input: t.result.call.args }] });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: t.result.call.id, content: t.result.output }] });
  }
  const body: any = { model, max_tokens: 200, system: "Answer briefly.", messages };
  if (t.tool) body.tools = [{ name: t.tool.name, description: t.tool.description, input_schema: t.tool.schema }];
  let msg: any;
  let requestId: string | null;
  if (stream) {
    const s = client.messages.stream(body);
    msg = await s.finalMessage();
    requestId = s.request_id ?? null;
  } else {
    const r = await client.messages.create(body).withResponse();
    msg = r.data;
    requestId = r.request_id ?? null;
  }
  const u = msg.usage;
  return {
    text: msg.content.filter((b: any) => b.type === "text").map((b: any) => b.text).join(""),
    calls: msg.content.filter((b: any) => b.type === "tool_use").map((b: any) => ({ id: b.id, name: b.name, args: b.input })),
    input: u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0), cacheRead: u.cache_read_input_tokens ?? 0,
    output: u.output_tokens, requestId, stop: msg.stop_reason,
  };
}

async function viaChat(client: OpenAI, model: string, stream: boolean, t: Turn): Promise<Seen> {
  const messages: any[] = [{ role: "system", content: "Answer briefly." }, { role: "user", content: t.prompt }];
  if (t.result) {
    messages.push({ role: "assistant", content: null, tool_calls: [{ id: t.result.call.id, type: "function", function: { name: t.result.call.name, arguments: JSON.stringify(t.result.call.args) } }] });
    messages.push({ role: "tool", tool_call_id: t.result.call.id, content: t.result.output });
  }
  const body: any = { model, messages, max_completion_tokens: 200 };
  if (t.tool) body.tools = [{ type: "function", function: { name: t.tool.name, description: t.tool.description, parameters: t.tool.schema } }];
  if (!stream) {
    const { data, request_id } = await client.chat.completions.create(body).withResponse();
    const m = data.choices[0]!.message;
    return {
      text: m.content ?? "", calls: (m.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) })),
      input: data.usage!.prompt_tokens, cacheRead: data.usage!.prompt_tokens_details?.cached_tokens ?? 0, output: data.usage!.completion_tokens,
      requestId: request_id, stop: data.choices[0]!.finish_reason,
    };
  }
  const { data, request_id } = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }).withResponse();
  let text = "";
  let usage: any = null;
  let stop = "";
  const calls = new Map<number, { id: string; name: string; args: string }>();
  for await (const chunk of data as any) {
    if (chunk.usage) usage = chunk.usage;
    const ch = chunk.choices[0];
    if (!ch) continue;
    text += ch.delta.content ?? "";
    for (const tc of ch.delta.tool_calls ?? []) {
      const c = calls.get(tc.index) ?? { id: "", name: "", args: "" };
      if (tc.id) c.id = tc.id;
      if (tc.function?.name) c.name = tc.function.name;
      c.args += tc.function?.arguments ?? "";
      calls.set(tc.index, c);
    }
    if (ch.finish_reason) stop = ch.finish_reason;
  }
  return {
    text, calls: [...calls.values()].map((c) => ({ id: c.id, name: c.name, args: JSON.parse(c.args || "{}") })),
    input: usage.prompt_tokens, cacheRead: usage.prompt_tokens_details?.cached_tokens ?? 0, output: usage.completion_tokens, requestId: request_id, stop,
  };
}

async function viaResponses(client: OpenAI, model: string, stream: boolean, t: Turn): Promise<Seen> {
  const input: any[] = [{ role: "user", content: t.prompt }];
  if (t.result) {
    input.push({ type: "function_call", call_id: t.result.call.id, name: t.result.call.name, arguments: JSON.stringify(t.result.call.args) });
    input.push({ type: "function_call_output", call_id: t.result.call.id, output: t.result.output });
  }
  const body: any = { model, instructions: "Answer briefly.", input, max_output_tokens: 200 };
  if (t.tool) body.tools = [{ type: "function", name: t.tool.name, description: t.tool.description, parameters: t.tool.schema, strict: false }];
  let resp: any;
  let requestId: string | null;
  if (stream) {
    const { data, request_id } = await client.responses.create({ ...body, stream: true }).withResponse();
    requestId = request_id;
    for await (const ev of data as any) if (ev.type === "response.completed" || ev.type === "response.incomplete") resp = ev.response;
  } else {
    const r = await client.responses.create(body).withResponse();
    resp = r.data;
    requestId = r.request_id;
  }
  const calls = resp.output.filter((o: any) => o.type === "function_call").map((o: any) => ({ id: o.call_id, name: o.name, args: JSON.parse(o.arguments) }));
  const text = resp.output.filter((o: any) => o.type === "message").flatMap((o: any) => o.content).map((c: any) => c.text ?? "").join("");
  return {
    text, calls, input: resp.usage.input_tokens, cacheRead: resp.usage.input_tokens_details?.cached_tokens ?? 0, output: resp.usage.output_tokens,
    requestId, stop: resp.status,
  };
}

async function viaGemini(client: GoogleGenAI, model: string, stream: boolean, t: Turn): Promise<Seen> {
  const contents: any[] = [{ role: "user", parts: [{ text: t.prompt }] }];
  if (t.result) {
    contents.push({ role: "model", parts: [{ functionCall: { id: t.result.call.id, name: t.result.call.name, args: t.result.call.args } }] });
    contents.push({ role: "user", parts: [{ functionResponse: { id: t.result.call.id, name: t.result.call.name, response: { output: t.result.output } } }] });
  }
  const config: any = { systemInstruction: "Answer briefly.", maxOutputTokens: 200 };
  if (t.tool) config.tools = [{ functionDeclarations: [{ name: t.tool.name, description: t.tool.description, parametersJsonSchema: t.tool.schema }] }];
  const chunks: any[] = [];
  if (stream) for await (const c of await client.models.generateContentStream({ model, contents, config })) chunks.push(c);
  else chunks.push(await client.models.generateContent({ model, contents, config }));
  let text = "";
  const calls: ToolCall[] = [];
  let usage: any = null;
  let stop = "";
  for (const c of chunks) {
    for (const p of c.candidates?.[0]?.content?.parts ?? []) {
      if (typeof p.text === "string" && !p.thought) text += p.text;
      if (p.functionCall) calls.push({ id: p.functionCall.id ?? "", name: p.functionCall.name, args: p.functionCall.args ?? {} });
    }
    if (c.usageMetadata) usage = c.usageMetadata;
    if (c.candidates?.[0]?.finishReason) stop = c.candidates[0].finishReason;
  }
  const requestId = chunks.at(-1)?.sdkHttpResponse?.headers?.["x-request-id"] ?? null;
  return {
    text, calls, input: usage.promptTokenCount, cacheRead: usage.cachedContentTokenCount ?? 0,
    output: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0), requestId, stop,
  };
}
