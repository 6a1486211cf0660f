import { isObject, parseArgs, safeId, wrapSignature, type CanonicalResponse, type CanonicalUsage, type Json, type StopReason } from "../canonical.js";
import { openaiUsage } from "../chat/response.js";

export function responsesUsageOut(u: CanonicalUsage): Json {
  return {
    input_tokens: u.input, input_tokens_details: { cached_tokens: u.cacheRead }, output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning }, total_tokens: u.input + u.output,
  };
}

/** The stop reason of a finished Response: its status, its incomplete reason and whether it called tools. */
export function responsesStop(body: Json, calledTool: boolean): StopReason {
  if (body.status === "incomplete") {
    const reason = isObject(body.incomplete_details) ? body.incomplete_details.reason : null;
    return reason === "content_filter" ? "refusal" : "max_tokens";
  }
  return calledTool ? "tool_use" : "end";
}

/** The Response object, as both the JSON answer and the stream's first and last events carry it. */
export function responseObject(id: string, model: string, output: Json[], usage: CanonicalUsage | null, stop: StopReason | null): Json {
  const incomplete = stop === "max_tokens" ? "max_output_tokens" : stop === "refusal" ? "content_filter" : null;
  return {
    id: id.startsWith("resp_") ? id : `resp_${id}`, object: "response", created_at: Math.floor(Date.now() / 1000),
    status: stop === null ? "in_progress" : incomplete ? "incomplete" : "completed", model, output,
    usage: usage ? responsesUsageOut(usage) : null, error: null, incomplete_details: incomplete ? { reason: incomplete } : null,
    instructions: null, metadata: {}, parallel_tool_calls: true, temperature: null, tool_choice: "auto", tools: [], top_p: null,
  };
}

export function decodeResponsesResponse(body: Json): CanonicalResponse {
  const parts: CanonicalResponse["parts"] = [];
  let called = false;
  for (const item of Array.isArray(body.output) ? body.output : []) {
    if (!isObject(item)) continue;
    if (item.type === "message" && Array.isArray(item.content)) {
      for (const c of item.content) if (isObject(c) && (c.type === "output_text" || c.type === "refusal")) parts.push({ type: "text", text: String(c.text ?? c.refusal ?? "") });
    } else if (item.type === "function_call") {
      called = true;
      parts.push({ type: "tool_call", id: String(item.call_id), name: String(item.name), args: parseArgs(String(item.arguments ?? ""), "output.function_call.arguments") });
    } else if (item.type === "reasoning" && Array.isArray(item.summary)) {
      const text = item.summary.map((s) => (isObject(s) ? String(s.text ?? "") : "")).join("\n");
      if (text) parts.push({ type: "thinking", text });
    }
  }
  return { id: String(body.id ?? ""), model: String(body.model ?? ""), parts, stop: responsesStop(body, called), usage: openaiUsage(body.usage) };
}

let seq = 0;
/** An output item id: a prefix and a short unique suffix. */
export function itemId(prefix: string): string {
  seq = (seq + 1) % 1e9;
  return `${prefix}_${Date.now().toString(36)}${seq.toString(36)}`;
}

export function encodeResponsesResponse(r: CanonicalResponse, model: string): Json {
  const output: Json[] = [];
  let text: Json | null = null;
  for (const p of r.parts) {
    if (p.type === "text") {
      if (text) (text.content as Json[])[0]!.text += p.text;
      else {
        text = { type: "message", id: itemId("msg"), status: "completed", role: "assistant", content: [{ type: "output_text", text: p.text, annotations: [] }] };
        output.push(text);
      }
      continue;
    }
    text = null;
    if (p.type === "tool_call") output.push({ type: "function_call", id: itemId("fc"), call_id: safeId(p.id), name: p.name, arguments: JSON.stringify(p.args), status: "completed" });
    else output.push(reasoningItem(itemId("rs"), p.text, p.signature ? wrapSignature("responses", p.origin, p.signature, p.redacted) : null));
  }
  const stop = r.stop === "tool_use" || r.stop === "stop_sequence" ? "end" : r.stop;
  return responseObject(r.id, model, output, r.usage, stop);
}

/**
 * A reasoning output item. Another provider's signature rides in `encrypted_content`, which the
 * SDKs replay unchanged with the item (translation.md §2.6), tagged so it goes back to that provider.
 */
export function reasoningItem(id: string, text: string, sealed: string | null): Json {
  return { type: "reasoning", id, summary: text ? [{ type: "summary_text", text }] : [], ...(sealed ? { encrypted_content: sealed } : {}) };
}
