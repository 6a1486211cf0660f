import {
  bad, isObject, num, originFamily, parseArgs, safeId, unwrapSignature, wrapSignature, type CanonicalResponse, type CanonicalUsage, type Json, type Part, type StopReason, type ThinkingPart,
} from "../canonical.js";

const STOPS: Record<string, StopReason> = { stop: "end", length: "max_tokens", tool_calls: "tool_use", function_call: "tool_use", content_filter: "refusal" };
const STOP_OUT: Record<StopReason, string> = { end: "stop", max_tokens: "length", stop_sequence: "stop", tool_use: "tool_calls", refusal: "content_filter" };

export const chatStop = (s: unknown): StopReason => STOPS[String(s)] ?? "end";
export const chatStopOut = (s: StopReason): string => STOP_OUT[s];

/** OpenAI usage (Chat's prompt/completion or Responses' input/output; input includes cache) → canonical. */
export function openaiUsage(u: unknown): CanonicalUsage {
  const o = isObject(u) ? u : {};
  const inDetails = isObject(o.prompt_tokens_details) ? o.prompt_tokens_details : isObject(o.input_tokens_details) ? o.input_tokens_details : {};
  const outDetails = isObject(o.completion_tokens_details) ? o.completion_tokens_details : isObject(o.output_tokens_details) ? o.output_tokens_details : {};
  return {
    input: num(o.prompt_tokens ?? o.input_tokens), cacheRead: num(inDetails.cached_tokens), cacheWrite: num(inDetails.cache_write_tokens),
    output: num(o.completion_tokens ?? o.output_tokens), reasoning: num(outDetails.reasoning_tokens),
  };
}

export function chatUsageOut(u: CanonicalUsage): Json {
  return {
    prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, ...(u.cacheWrite ? { cache_write_tokens: u.cacheWrite } : {}) },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

export function decodeChatResponse(body: Json): CanonicalResponse {
  const choice = Array.isArray(body.choices) && isObject(body.choices[0]) ? body.choices[0] : {};
  const m = isObject(choice.message) ? choice.message : {};
  const parts: CanonicalResponse["parts"] = [];
  if (typeof m.content === "string" && m.content !== "") parts.push({ type: "text", text: m.content });
  if (typeof m.refusal === "string" && m.refusal !== "") parts.push({ type: "text", text: m.refusal });
  if (Array.isArray(m.tool_calls)) {
    for (const t of m.tool_calls) {
      if (isObject(t) && isObject(t.function)) parts.push({ type: "tool_call", id: String(t.id), name: String(t.function.name), args: parseArgs(String(t.function.arguments ?? ""), "tool_calls.function.arguments") });
    }
  }
  const stop = typeof m.refusal === "string" && m.refusal !== "" ? "refusal" : chatStop(choice.finish_reason);
  return { id: String(body.id ?? ""), model: String(body.model ?? ""), parts, stop, usage: openaiUsage(body.usage) };
}

/**
 * A Gemini thought signature rides on the tool call it signed as `extra_content.google.thought_signature`
 * (where Google's own OpenAI-compatible API puts it), tagged: a client that replays the assistant
 * message as it got it sends it back.
 */
export function chatCallSignature(prev: Part | undefined): Json {
  return prev?.type === "thinking" && originFamily(prev.origin) === "gemini" && prev.signature && prev.text === ""
    ? { extra_content: { google: { thought_signature: wrapSignature("chat", prev.origin, prev.signature) } } } : {};
}

/**
 * Signed reasoning a Chat caller carries back as a `thinking_blocks` entry (Anthropic's thinking
 * and redacted thinking); a Gemini signature rides on its tool call instead (chatCallSignature).
 */
export const chatCarriesBlock = (p: Part): p is ThinkingPart => p.type === "thinking" && originFamily(p.origin) === "anthropic" && !!p.signature;

/** One `thinking_blocks` entry, in LiteLLM's widely used shape, its signature tagged with its origin. */
export function chatThinkingBlock(p: ThinkingPart): Json {
  const signature = wrapSignature("chat", p.origin, p.signature ?? "");
  return p.redacted ? { type: "redacted_thinking", data: signature } : { type: "thinking", thinking: p.text, signature };
}

/** A `thinking_blocks` entry sent back on an assistant message → a canonical thinking part. */
export function decodeChatThinkingBlock(b: unknown, at: string): ThinkingPart {
  if (isObject(b) && b.type === "thinking" && typeof b.signature === "string") {
    const u = unwrapSignature("chat", b.signature);
    return { type: "thinking", text: String(b.thinking ?? ""), signature: u.signature, origin: u.origin };
  }
  if (isObject(b) && b.type === "redacted_thinking" && typeof b.data === "string") {
    const u = unwrapSignature("chat", b.data);
    return { type: "thinking", text: "", signature: u.signature, origin: u.origin, redacted: true };
  }
  return bad(at, "must be a thinking block ({type: 'thinking', thinking, signature}) or a redacted one ({type: 'redacted_thinking', data}), as it was received");
}

/** Reasoning on a Chat assistant message: its text as `reasoning_content`, its signed blocks as `thinking_blocks`. */
function chatReasoning(parts: CanonicalResponse["parts"]): Json {
  const text = parts.map((p) => (p.type === "thinking" ? p.text : "")).join("");
  const blocks = parts.filter(chatCarriesBlock).map(chatThinkingBlock);
  return { ...(text ? { reasoning_content: text } : {}), ...(blocks.length ? { thinking_blocks: blocks } : {}) };
}

export function encodeChatResponse(r: CanonicalResponse, model: string): Json {
  const text = r.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  const calls: Json[] = [];
  r.parts.forEach((p, i) => {
    if (p.type === "tool_call") calls.push({ id: safeId(p.id), type: "function", function: { name: p.name, arguments: JSON.stringify(p.args) }, ...chatCallSignature(r.parts[i - 1]) });
  });
  const stop = r.stop === "end" && calls.length ? "tool_use" : r.stop;
  return {
    id: r.id.startsWith("chatcmpl-") ? r.id : `chatcmpl-${r.id}`, object: "chat.completion", created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: { role: "assistant", content: text || null, refusal: null, ...chatReasoning(r.parts), ...(calls.length ? { tool_calls: calls } : {}) }, logprobs: null, finish_reason: chatStopOut(stop) }],
    usage: chatUsageOut(r.usage),
  };
}
