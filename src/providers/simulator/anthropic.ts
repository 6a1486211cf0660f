import { anthropicToolUse, simThinkingSignature, thinks } from "./tool-calls.js";
import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";

/** POST /v1/messages in Anthropic's shape, JSON or SSE. */
export function simulateMessages(call: SimCall): void {
  if (call.tool) {
    anthropicToolUse(call, call.tool);
    return;
  }
  const { script, model } = call;
  const id = simId("msg_sim");
  const text = script.words.join("");
  const stopReason = script.stopReason === "max_tokens" ? "max_tokens" : "end_turn";
  const usage = {
    input_tokens: script.inputTokens, output_tokens: script.words.length,
    cache_creation_input_tokens: script.cacheWrite, cache_read_input_tokens: script.cacheRead, service_tier: "standard",
  };
  if (!call.stream) {
    sendJson(call, { id, type: "message", role: "assistant", model, content: [{ type: "text", text }], stop_reason: stopReason, stop_sequence: null, usage });
    return;
  }
  if (call.frames) {
    call.frames(messageEvents(call, id, stopReason, usage));
    return;
  }
  sendEvents(call, messageEvents(call, id, stopReason, usage).map(([name, data]) => sseEvent(name, data)));
}

/** The events of a streamed Message, as (type, data) pairs: SSE here, AWS event-stream frames on Bedrock. */
export function messageEvents(call: SimCall, id: string, stopReason: string, usage: Record<string, unknown>): [string, Record<string, unknown>][] {
  const { script, model } = call;
  return [
    ["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
    ["ping", { type: "ping" }],
    ...script.words.map((w): [string, Record<string, unknown>] => ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: w } }]),
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: script.words.length } }],
    ["message_stop", { type: "message_stop" }],
  ];
}

export function simulateCountTokens(call: SimCall): void {
  sendJson(call, { input_tokens: call.script.inputTokens });
}

/**
 * Anthropic's checks of a history with thinking (translation.md §2.6): with thinking on, an
 * assistant turn that calls a tool must start with its thinking block, and a thinking block must
 * come back as it was written (its signature checked). The refusal's message, or null.
 */
export function thinkingRefusal(body: Record<string, unknown>): string | null {
  if (!thinks(body)) return null;
  const messages = Array.isArray(body.messages) ? body.messages as { role?: string; content?: unknown }[] : [];
  let lastCall = -1;
  for (const [i, m] of messages.entries()) {
    if (m?.role !== "assistant" || !Array.isArray(m.content)) continue;
    for (const [j, b] of (m.content as Record<string, unknown>[]).entries()) {
      if (b?.type === "tool_use") lastCall = i;
      if (b?.type === "thinking" && b.signature !== simThinkingSignature(String(b.thinking ?? ""))) return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
    }
  }
  if (lastCall < 0 || lastCall !== messages.map((m) => m?.role).lastIndexOf("assistant")) return null;
  const first = (messages[lastCall]!.content as Record<string, unknown>[])[0]?.type;
  if (first === "thinking" || first === "redacted_thinking") return null;
  return `messages.${lastCall}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
}
