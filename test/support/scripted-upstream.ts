/**
 * A provider stand-in that answers each provider's own dialect with a fixed two-turn tool
 * conversation (the wire shapes of the providers' streams, split argument fragments included) and
 * keeps every request body it received, so a test can check what the gateway sent upstream.
 * First turn (tools declared, no result yet): "Let me check." and a get_weather call for Paris.
 * Second turn (a tool result present): "It is 18C in Paris."
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received { path: string; headers: Record<string, string | string[] | undefined>; body: any }

export interface ScriptedUpstream { url: string; received: Received[]; close(): Promise<void> }

/** Usage every answer reports, in each provider's terms (Anthropic's input excludes the cache). */
export const SCRIPTED_USAGE = { input: 30, cacheRead: 10, cacheWrite: 5, output: 9 };

const ev = (name: string | null, data: unknown) => (name ? `event: ${name}\n` : "") + `data: ${JSON.stringify(data)}\n\n`;

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = text ? JSON.parse(text) : {};
      const path = req.url ?? "";
      received.push({ path, headers: req.headers, body });
      const second = /tool_result|"role":"tool"|functionResponse/.test(text);
      const stream = body.stream === true || path.includes("streamGenerateContent");
      const answer = path.endsWith("/v1/messages") ? anthropic(second, stream) : path.endsWith("/chat/completions") ? chat(second, stream) : gemini(second, stream);
      res.writeHead(200, { "content-type": stream ? "text/event-stream" : "application/json" });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const U = SCRIPTED_USAGE;

function anthropic(second: boolean, stream: boolean): string {
  const usage = { input_tokens: U.input, cache_read_input_tokens: U.cacheRead, cache_creation_input_tokens: U.cacheWrite, output_tokens: U.output };
  const content: any[] = second ? [{ type: "text", text: "It is 18C in Paris." }]
    : [{ type: "text", text: "Let me check." }, { type: "tool_use", id: "toolu_01Wx", name: "get_weather", input: { city: "Paris" } }];
  const stop = second ? "end_turn" : "tool_use";
  if (!stream) return JSON.stringify({ id: "msg_up1", type: "message", role: "assistant", model: "claude-sonnet-4-6", content, stop_reason: stop, stop_sequence: null, usage });
  const out = [ev("message_start", { type: "message_start", message: { id: "msg_up1", type: "message", role: "assistant", model: "claude-sonnet-4-6", content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }), ev("ping", { type: "ping" })];
  out.push(ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }));
  const words = (content[0].text as string).split(/(?<= )/);
  for (const w of words) out.push(ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: w } }));
  out.push(ev("content_block_stop", { type: "content_block_stop", index: 0 }));
  if (!second) {
    out.push(ev("content_block_start", { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_01Wx", name: "get_weather", input: {} } }));
    for (const piece of ["", "{\"city\":", " \"Par", "is\"}"]) out.push(ev("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: piece } }));
    out.push(ev("content_block_stop", { type: "content_block_stop", index: 1 }));
  }
  out.push(ev("message_delta", { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: U.output } }));
  out.push(ev("message_stop", { type: "message_stop" }));
  return out.join("");
}

function chat(second: boolean, stream: boolean): string {
  const usage = { prompt_tokens: U.input + U.cacheRead, completion_tokens: U.output, total_tokens: U.input + U.cacheRead + U.output, prompt_tokens_details: { cached_tokens: U.cacheRead } };
  const text = second ? "It is 18C in Paris." : "Let me check.";
  const finish = second ? "stop" : "tool_calls";
  const base = { id: "chatcmpl-up1", created: 1, model: "gpt-4o" };
  if (!stream) {
    const message: any = { role: "assistant", content: text, refusal: null };
    if (!second) message.tool_calls = [{ id: "call_Up1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }];
    return JSON.stringify({ ...base, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage });
  }
  const chunk = (delta: any, f: string | null = null) => ev(null, { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: f, logprobs: null }], usage: null });
  const out = [chunk({ role: "assistant", content: "" }), ...text.split(/(?<= )/).map((w) => chunk({ content: w }))];
  if (!second) {
    out.push(chunk({ tool_calls: [{ index: 0, id: "call_Up1", type: "function", function: { name: "get_weather", arguments: "" } }] }));
    for (const piece of ["{\"city\":", "\"Paris\"}"]) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
  }
  out.push(chunk({}, finish), ev(null, { ...base, object: "chat.completion.chunk", choices: [], usage }), "data: [DONE]\n\n");
  return out.join("");
}

function gemini(second: boolean, stream: boolean): string {
  const usageMetadata = { promptTokenCount: U.input + U.cacheRead, cachedContentTokenCount: U.cacheRead, candidatesTokenCount: U.output, totalTokenCount: U.input + U.cacheRead + U.output };
  const text = second ? "It is 18C in Paris." : "Let me check.";
  // Gemini sends calls without ids on older models, and says STOP for a tool call.
  const parts: any[] = second ? [{ text }] : [{ text }, { functionCall: { name: "get_weather", args: { city: "Paris" } } }];
  const meta = { modelVersion: "gemini-2.5-flash", responseId: "gresp1" };
  if (!stream) return JSON.stringify({ candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }], usageMetadata, ...meta });
  const out = parts.map((p) => ev(null, { candidates: [{ content: { role: "model", parts: [p] }, index: 0 }], usageMetadata: { ...usageMetadata, candidatesTokenCount: 1 }, ...meta }));
  out.push(ev(null, { candidates: [{ content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP", index: 0 }], usageMetadata, ...meta }));
  return out.join("");
}
