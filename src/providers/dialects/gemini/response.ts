import { isObject, num, unwrapSignature, wrapSignature, type CanonicalResponse, type CanonicalUsage, type Json, type Part, type StopReason, type ThinkingPart } from "../canonical.js";

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

/**
 * A part's thought signature (Gemini 3 signs function calls, and may sign any part) as canonical
 * thinking: on a thought it is that thought's; on any other part it stands alone, just before the
 * part it signed, and goes back on that part (encodeGeminiRequest). Null when the part has none.
 */
export function thoughtOf(p: Json): ThinkingPart | null {
  const sig = typeof p.thoughtSignature === "string" && p.thoughtSignature !== "" ? unwrapSignature("gemini", p.thoughtSignature) : null;
  const thought = p.thought === true && typeof p.text === "string";
  if (!sig && !(thought && p.text !== "")) return null;
  return { type: "thinking", text: thought ? String(p.text) : "", ...(sig ? { signature: sig.signature, origin: sig.origin, ...(sig.redacted ? { redacted: true } : {}) } : {}) };
}

/** A canonical thinking part as a Gemini thought, its signature tagged unless Gemini wrote it. */
export function thoughtPart(p: ThinkingPart): Json {
  return { text: p.text, thought: true, ...(p.signature ? { thoughtSignature: wrapSignature("gemini", p.origin, p.signature, p.redacted) } : {}) };
}

/**
 * Pushes a Gemini part's thought (if any) and then what else it carries (text, a call…, from `rest`).
 * A thought streamed in pieces, its signature on the last piece, is one thought again: pieces join
 * the thought before them until one brings a signature.
 */
export function pushSigned<T extends Part>(parts: T[], p: Json, rest: T | null): void {
  const t = thoughtOf(p);
  const prev = parts.at(-1);
  if (t && p.thought === true && prev?.type === "thinking" && prev.signature === undefined) {
    prev.text += t.text;
    if (t.signature !== undefined) Object.assign(prev, { signature: t.signature, origin: t.origin, ...(t.redacted ? { redacted: true } : {}) });
  } else if (t) parts.push(t as T);
  if (rest && !(p.thought === true && typeof p.text === "string")) parts.push(rest);
}

export function decodeGeminiResponse(body: Json): CanonicalResponse {
  const id = String(body.responseId ?? "");
  const candidate = Array.isArray(body.candidates) && isObject(body.candidates[0]) ? body.candidates[0] : null;
  const parts: CanonicalResponse["parts"] = [];
  let calls = 0;
  const content = candidate && isObject(candidate.content) ? candidate.content : {};
  for (const p of Array.isArray(content.parts) ? content.parts : []) {
    if (!isObject(p)) continue;
    if (typeof p.text === "string") pushSigned(parts, p, p.text === "" ? null : { type: "text", text: p.text });
    else if (isObject(p.functionCall)) {
      const f = p.functionCall;
      pushSigned(parts, p, { type: "tool_call", id: typeof f.id === "string" ? f.id : `call_${id}_${calls}`, name: String(f.name), args: isObject(f.args) ? f.args : {} });
      calls++;
    }
  }
  // A blocked prompt is a 200 with no candidates.
  const stop = candidate ? geminiStop(candidate.finishReason, calls > 0) : "refusal";
  return { id, model: String(body.modelVersion ?? ""), parts, stop, usage: geminiUsage(body.usageMetadata) };
}

export function encodeGeminiResponse(r: CanonicalResponse, model: string): Json {
  const parts = r.parts.map((p) => p.type === "text" ? { text: p.text } : p.type === "thinking" ? thoughtPart(p)
    : { functionCall: { id: p.id, name: p.name, args: p.args } });
  return {
    candidates: [{ content: { role: "model", parts: parts.length ? parts : [{ text: "" }] }, finishReason: geminiStopOut(r.stop), index: 0 }],
    usageMetadata: geminiUsageOut(r.usage), modelVersion: model, responseId: r.id,
  };
}
