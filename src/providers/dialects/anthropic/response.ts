import { isObject, num, wrapSignature, type CanonicalResponse, type CanonicalUsage, type Json, type StopReason } from "../canonical.js";

const STOPS: Record<string, StopReason> = {
  end_turn: "end", max_tokens: "max_tokens", stop_sequence: "stop_sequence", tool_use: "tool_use", refusal: "refusal",
  model_context_window_exceeded: "max_tokens", pause_turn: "end",
};
const STOP_OUT: Record<StopReason, string> = { end: "end_turn", max_tokens: "max_tokens", stop_sequence: "stop_sequence", tool_use: "tool_use", refusal: "refusal" };

export const anthropicStop = (s: unknown): StopReason => STOPS[String(s)] ?? "end";
export const anthropicStopOut = (s: StopReason): string => STOP_OUT[s];

/** Anthropic usage (input excludes cache) → canonical totals. */
export function anthropicUsage(u: unknown): CanonicalUsage {
  const o = isObject(u) ? u : {};
  const cacheRead = num(o.cache_read_input_tokens);
  const cacheWrite = num(o.cache_creation_input_tokens);
  const details = isObject(o.output_tokens_details) ? o.output_tokens_details : {};
  return { input: num(o.input_tokens) + cacheRead + cacheWrite, cacheRead, cacheWrite, output: num(o.output_tokens), reasoning: num(details.thinking_tokens) };
}

export function anthropicUsageOut(u: CanonicalUsage): Json {
  return {
    input_tokens: Math.max(0, u.input - u.cacheRead - u.cacheWrite), output_tokens: u.output,
    cache_creation_input_tokens: u.cacheWrite, cache_read_input_tokens: u.cacheRead,
  };
}

export function decodeAnthropicResponse(body: Json): CanonicalResponse {
  const parts: CanonicalResponse["parts"] = [];
  for (const b of Array.isArray(body.content) ? body.content : []) {
    if (!isObject(b)) continue;
    if (b.type === "text") parts.push({ type: "text", text: String(b.text ?? "") });
    else if (b.type === "tool_use") parts.push({ type: "tool_call", id: String(b.id), name: String(b.name), args: isObject(b.input) ? b.input : {} });
    else if (b.type === "thinking") parts.push({ type: "thinking", text: String(b.thinking ?? ""), signature: String(b.signature ?? ""), origin: "anthropic" });
    else if (b.type === "redacted_thinking") parts.push({ type: "thinking", text: "", signature: String(b.data ?? ""), origin: "anthropic", redacted: true });
  }
  return { id: String(body.id ?? ""), model: String(body.model ?? ""), parts, stop: anthropicStop(body.stop_reason), usage: anthropicUsage(body.usage) };
}

export function encodeAnthropicResponse(r: CanonicalResponse, model: string): Json {
  const content = r.parts.map((p) => p.type === "text" ? { type: "text", text: p.text }
    : p.type === "tool_call" ? { type: "tool_use", id: p.id, name: p.name, input: p.args }
      : { type: "thinking", thinking: p.text, signature: wrapSignature("anthropic", p.origin, p.signature ?? "", p.redacted) });
  return {
    id: r.id.startsWith("msg_") ? r.id : `msg_${r.id}`, type: "message", role: "assistant", model, content,
    stop_reason: anthropicStopOut(r.stop), stop_sequence: null, usage: anthropicUsageOut(r.usage),
  };
}
