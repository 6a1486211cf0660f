import { isObject, num, type CanonicalResponse, type CanonicalUsage, type Json, type StopReason } from "../canonical.js";

const STOP_OUT: Record<StopReason, string> = { end: "STOP", stop_sequence: "STOP", tool_use: "STOP", max_tokens: "MAX_TOKENS", refusal: "SAFETY" };

/** A finish reason; Gemini says STOP for tool calls too, so the caller's view comes from the parts. */
export function geminiStop(reason: unknown, calledTool: boolean): StopReason {
  switch (reason) {
    case "MAX_TOKENS": return "max_tokens";
    case "STOP":
    case undefined:
    case null: return calledTool ? "tool_use" : "end";
    case "MALFORMED_FUNCTION_CALL":
    case "UNEXPECTED_TOOL_CALL":
    case "TOO_MANY_TOOL_CALLS":
    case "OTHER":
    case "FINISH_REASON_UNSPECIFIED": return "end";
    default: return "refusal";
  }
}
export const geminiStopOut = (s: StopReason): string => STOP_OUT[s];

export function geminiUsage(u: unknown): CanonicalUsage {
  const o = isObject(u) ? u : {};
  const thoughts = num(o.thoughtsTokenCount);
  return { input: num(o.promptTokenCount) + num(o.toolUsePromptTokenCount), cacheRead: num(o.cachedContentTokenCount), cacheWrite: 0, output: num(o.candidatesTokenCount) + thoughts, reasoning: thoughts };
}

export function geminiUsageOut(u: CanonicalUsage): Json {
  return {
    promptTokenCount: u.input, candidatesTokenCount: Math.max(0, u.output - u.reasoning), totalTokenCount: u.input + u.output,
    ...(u.cacheRead ? { cachedContentTokenCount: u.cacheRead } : {}), ...(u.reasoning ? { thoughtsTokenCount: u.reasoning } : {}),
  };
}

export function decodeGeminiResponse(body: Json): CanonicalResponse {
  const id = String(body.responseId ?? "");
  const candidate = Array.isArray(body.candidates) && isObject(body.candidates[0]) ? body.candidates[0] : null;
  const parts: CanonicalResponse["parts"] = [];
  let calls = 0;
  const content = candidate && isObject(candidate.content) ? candidate.content : {};
  for (const p of Array.isArray(content.parts) ? content.parts : []) {
    if (!isObject(p)) continue;
    if (typeof p.text === "string") parts.push(p.thought === true ? { type: "thinking", text: p.text } : { type: "text", text: p.text });
    else if (isObject(p.functionCall)) {
      const f = p.functionCall;
      parts.push({ type: "tool_call", id: typeof f.id === "string" ? f.id : `call_${id}_${calls}`, name: String(f.name), args: isObject(f.args) ? f.args : {} });
      calls++;
    }
  }
  // A blocked prompt is a 200 with no candidates.
  const stop = candidate ? geminiStop(candidate.finishReason, calls > 0) : "refusal";
  return { id, model: String(body.modelVersion ?? ""), parts, stop, usage: geminiUsage(body.usageMetadata) };
}

export function encodeGeminiResponse(r: CanonicalResponse, model: string): Json {
  const parts = r.parts.map((p) => p.type === "text" ? { text: p.text } : p.type === "thinking" ? { text: p.text, thought: true }
    : { functionCall: { id: p.id, name: p.name, args: p.args } });
  return {
    candidates: [{ content: { role: "model", parts: parts.length ? parts : [{ text: "" }] }, finishReason: geminiStopOut(r.stop), index: 0 }],
    usageMetadata: geminiUsageOut(r.usage), modelVersion: model, responseId: r.id,
  };
}
