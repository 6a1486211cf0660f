import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";
import type { ToolCall } from "./tools.js";

/**
 * The simulator's tool calls in each API's shape, JSON and streamed (argument deltas as each API
 * sends them; Gemini sends a call whole). Output tokens are the argument pieces, so the usage a
 * client sees matches the deltas it received.
 */
export function anthropicToolUse(call: SimCall, tool: ToolCall): void {
  const { script, model } = call;
  const id = simId("msg_sim");
  // With thinking on, the call comes after a signed thinking block (its words are output tokens).
  const thought = thinks(call.body) ? { type: "thinking", thinking: THOUGHT, signature: simThinkingSignature(THOUGHT) } : null;
  const thoughtTokens = thought ? THOUGHT.split(" ").length : 0;
  const usage = {
    input_tokens: script.inputTokens, output_tokens: thoughtTokens + tool.pieces.length,
    cache_creation_input_tokens: script.cacheWrite, cache_read_input_tokens: script.cacheRead, service_tier: "standard",
  };
  const block = { type: "tool_use", id: tool.id, name: tool.name, input: tool.args };
  if (!call.stream) {
    sendJson(call, { id, type: "message", role: "assistant", model, content: thought ? [thought, block] : [block], stop_reason: "tool_use", stop_sequence: null, usage });
    return;
  }
  const at = thought ? 1 : 0;
  sendEvents(call, [
    sseEvent("message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }),
    ...(thought ? [
      sseEvent("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
      sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: THOUGHT } }),
      sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: thought.signature } }),
      sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
    ] : []),
    sseEvent("content_block_start", { type: "content_block_start", index: at, content_block: { ...block, input: {} } }),
    ...tool.pieces.map((p) => sseEvent("content_block_delta", { type: "content_block_delta", index: at, delta: { type: "input_json_delta", partial_json: p } })),
    sseEvent("content_block_stop", { type: "content_block_stop", index: at }),
    sseEvent("message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }),
    sseEvent("message_stop", { type: "message_stop" }),
  ]);
}

const THOUGHT = "The simulator considers which tool to call.";

/** Thinking asked of a Claude model (enabled, or adaptive). */
export function thinks(body: Record<string, unknown>): boolean {
  const t = body.thinking as { type?: unknown } | undefined;
  return t?.type === "enabled" || t?.type === "adaptive";
}

/** The simulator's signature of a thinking text: opaque to clients, checked when the block comes back. */
export function simThinkingSignature(text: string): string {
  return Buffer.from(`simulator-thinking:${text}`).toString("base64");
}

export function chatToolCalls(call: SimCall, tool: ToolCall, includeUsage: boolean): void {
  const { script, model } = call;
  const id = simId("chatcmpl-sim");
  const created = Math.floor(Date.now() / 1000);
  const prompt = script.inputTokens + script.cacheRead;
  const usage = {
    prompt_tokens: prompt, completion_tokens: tool.pieces.length, total_tokens: prompt + tool.pieces.length,
    prompt_tokens_details: { cached_tokens: script.cacheRead, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
  const fn = { id: tool.id, type: "function", function: { name: tool.name, arguments: tool.json } };
  if (!call.stream) {
    sendJson(call, {
      id, object: "chat.completion", created, model, service_tier: "default", system_fingerprint: null, usage,
      choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [fn], refusal: null }, logprobs: null, finish_reason: "tool_calls" }],
    });
    return;
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseEvent(null, { id, object: "chat.completion.chunk", created, model, system_fingerprint: null, choices, ...(includeUsage ? { usage: null } : {}), ...extra });
  const delta = (d: unknown) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: null }]);
  sendEvents(call, [
    delta({ role: "assistant", content: null, tool_calls: [{ index: 0, ...fn, function: { name: tool.name, arguments: "" } }] }),
    ...tool.pieces.map((p) => delta({ tool_calls: [{ index: 0, function: { arguments: p } }] })),
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" }]),
    ...(includeUsage ? [chunk([], { usage })] : []),
    "data: [DONE]\n\n",
  ]);
}

export function responsesFunctionCall(call: SimCall, tool: ToolCall, response: (status: string, output: unknown[], usage: unknown) => unknown, usage: unknown): void {
  const item = { type: "function_call", id: simId("fc_sim"), call_id: tool.id, name: tool.name, arguments: tool.json, status: "completed" };
  if (!call.stream) {
    sendJson(call, response("completed", [item], usage));
    return;
  }
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sseEvent(type, { type, sequence_number: seq++, ...data });
  sendEvents(call, [
    ev("response.created", { response: response("in_progress", [], null) }),
    ev("response.output_item.added", { output_index: 0, item: { ...item, arguments: "", status: "in_progress" } }),
    ...tool.pieces.map((p) => ev("response.function_call_arguments.delta", { item_id: item.id, output_index: 0, delta: p })),
    ev("response.function_call_arguments.done", { item_id: item.id, output_index: 0, arguments: tool.json }),
    ev("response.output_item.done", { output_index: 0, item }),
    ev("response.completed", { response: response("completed", [item], usage) }),
  ]);
}

/** Gemini 3 models sign their function calls (thoughtSignature) and refuse a history that drops a signature. */
export const signsFunctionCalls = (model: string): boolean => /^gemini-3/.test(model);

/** The simulator's thought signature for a call: opaque, deterministic. */
export function simThoughtSignature(model: string, name: string): string {
  return Buffer.from(`simulator-thought:${model}:${name}`).toString("base64");
}

export function geminiFunctionCall(call: SimCall, tool: ToolCall, sse: boolean): void {
  const { script, model } = call;
  const prompt = script.inputTokens + script.cacheRead;
  const chunk = {
    candidates: [{ content: { parts: [{ functionCall: { name: tool.name, args: tool.args }, ...(signsFunctionCalls(model) ? { thoughtSignature: simThoughtSignature(model, tool.name) } : {}) }], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: tool.pieces.length, totalTokenCount: prompt + tool.pieces.length, ...(script.cacheRead ? { cachedContentTokenCount: script.cacheRead } : {}) },
    modelVersion: model, responseId: simId("sim"),
  };
  if (!call.stream) sendJson(call, chunk);
  else if (sse) sendEvents(call, [sseEvent(null, chunk)]);
  else sendEvents(call, [`[${JSON.stringify(chunk)}]`], "application/json");
}
