import {
  bad, budgetOf, effortOf, emptyRequest, isObject, refuse, refuseUnknown, type CanonicalRequest, type Json, type Message, type Part, type TextPart,
} from "../canonical.js";
import type { EncodeContext } from "../codec.js";
import { pushSigned } from "./response.js";
import { camelizeGemini, fromOpenApiSchema } from "./schema.js";

const KNOWN = new Set(["contents", "systemInstruction", "generationConfig", "tools", "toolConfig", "model"]);
const GEN_KNOWN = new Set([
  "maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig", "candidateCount",
]);
const LEVELS: Record<string, "minimal" | "low" | "medium" | "high"> = { MINIMAL: "minimal", LOW: "low", MEDIUM: "medium", HIGH: "high" };

/** Gemini generateContent request → canonical. Calls without ids get one, and results are paired by name in order. */
export function decodeGeminiRequest(raw: Json, target: string): CanonicalRequest {
  const body = camelizeGemini(raw) as Json;
  refuseUnknown(body, KNOWN, target);
  const r = emptyRequest(String(body.model ?? ""));
  if (isObject(body.systemInstruction) && Array.isArray(body.systemInstruction.parts)) {
    r.system = body.systemInstruction.parts.map((p) => (isObject(p) ? String(p.text ?? "") : "")).join("\n") || null;
  }
  if (!Array.isArray(body.contents)) bad("contents", "must be an array");
  const pending = new Map<string, string[]>();
  let ordinal = 0;
  r.messages = (body.contents as unknown[]).map((c, i): Message => {
    if (!isObject(c)) bad(`contents[${i}]`, "must be a content");
    const parts: Part[] = [];
    (Array.isArray(c.parts) ? c.parts : []).forEach((p, j) => {
      const at = `contents[${i}].parts[${j}]`;
      if (!isObject(p)) bad(at, "must be a part");
      if (typeof p.text === "string") {
        pushSigned(parts, p, p.text === "" ? null : { type: "text", text: p.text });
      } else if (isObject(p.inlineData)) {
        const mediaType = String(p.inlineData.mimeType);
        parts.push({ type: mediaType.startsWith("image/") ? "image" : "document", mediaType, data: String(p.inlineData.data) });
      } else if (isObject(p.functionCall)) {
        const name = String(p.functionCall.name);
        const id = typeof p.functionCall.id === "string" ? p.functionCall.id : `call_g${++ordinal}`;
        pending.set(name, [...(pending.get(name) ?? []), id]);
        pushSigned(parts, p, { type: "tool_call", id, name, args: isObject(p.functionCall.args) ? p.functionCall.args : {} });
      } else if (isObject(p.functionResponse)) {
        const f = p.functionResponse;
        const name = String(f.name);
        const queue = pending.get(name) ?? [];
        const id = typeof f.id === "string" ? f.id : queue.shift() ?? `call_g${++ordinal}`;
        const resp = isObject(f.response) ? f.response : {};
        const value = resp.error ?? resp.output ?? resp;
        parts.push({ type: "tool_result", id, name, content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }], isError: resp.error !== undefined });
      } else refuse(`${at} (${Object.keys(p).join(", ")})`, target, "is not supported");
    });
    return { role: c.role === "model" ? "assistant" : "user", parts };
  });
  const g = isObject(body.generationConfig) ? body.generationConfig : {};
  for (const k in g) if (!GEN_KNOWN.has(k)) refuse(`generationConfig.${k}`, target, "is not supported");
  if (g.candidateCount !== undefined && g.candidateCount !== 1) refuse("generationConfig.candidateCount", target, "above 1 cannot be honoured");
  r.maxTokens = typeof g.maxOutputTokens === "number" ? g.maxOutputTokens : null;
  r.temperature = typeof g.temperature === "number" ? g.temperature : null;
  r.topP = typeof g.topP === "number" ? g.topP : null;
  r.topK = typeof g.topK === "number" ? g.topK : null;
  r.stop = Array.isArray(g.stopSequences) ? g.stopSequences.map(String) : [];
  if (g.responseMimeType === "application/json") {
    const schema = isObject(g.responseJsonSchema) ? g.responseJsonSchema : isObject(g.responseSchema) ? fromOpenApiSchema(g.responseSchema) : null;
    r.output = schema ? { type: "json_schema", name: "output", schema } : { type: "json" };
  }
  if (isObject(g.thinkingConfig)) {
    const t = g.thinkingConfig;
    r.reasoning = {
      ...(typeof t.thinkingBudget === "number" ? { budget: t.thinkingBudget } : {}),
      ...(typeof t.thinkingLevel === "string" && LEVELS[t.thinkingLevel] ? { effort: LEVELS[t.thinkingLevel] } : {}),
      ...(t.includeThoughts === true ? { show: true } : {}),
    };
  }
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t, i) => {
      if (!isObject(t) || !Array.isArray(t.functionDeclarations)) return refuse(`tools[${i}] (${isObject(t) ? Object.keys(t).join(", ") : "?"})`, target, "is not supported");
      for (const f of t.functionDeclarations) {
        if (!isObject(f)) continue;
        const schema = isObject(f.parametersJsonSchema) ? f.parametersJsonSchema : isObject(f.parameters) ? fromOpenApiSchema(f.parameters) : { type: "object", properties: {} };
        r.tools.push({ name: String(f.name), ...(f.description ? { description: String(f.description) } : {}), schema });
      }
    });
  }
  const fc = isObject(body.toolConfig) && isObject(body.toolConfig.functionCallingConfig) ? body.toolConfig.functionCallingConfig : null;
  if (fc) {
    const names = Array.isArray(fc.allowedFunctionNames) ? fc.allowedFunctionNames.map(String) : [];
    if (fc.mode === "VALIDATED" || names.length > 1) refuse("toolConfig.functionCallingConfig", target, "of this kind is not supported");
    r.toolChoice = fc.mode === "NONE" ? { type: "none" } : fc.mode === "ANY" ? (names.length === 1 ? { type: "tool", name: names[0]! } : { type: "required" }) : { type: "auto" };
  }
  return r;
}

/** Gemini 3 models refuse a history whose function calls lost their thought signature (Google's thought-signatures docs). */
export const checksCallSignatures = (model: string): boolean => /^gemini-3/.test(model);

/** Google's documented stand-in signature for function calls that Gemini did not write (or whose signature is gone). */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";

/**
 * Gemini 3 checks that the first function call of each model step carries its signature. A call
 * another model made (the conversation started elsewhere), or whose signature was dropped as not
 * this model's, gets Google's stand-in instead, so the model takes the history as context.
 */
function vouchForCalls(parts: Json[]): void {
  const first = parts.find((p) => p.functionCall !== undefined);
  if (first && first.thoughtSignature === undefined) first.thoughtSignature = SKIP_SIGNATURE;
}

/** Canonical → Gemini generateContent request (the model goes in the path, not the body). */
export function encodeGeminiRequest(r: CanonicalRequest, ctx: EncodeContext): Json {
  if (r.parallelToolCalls === false) refuse("parallel_tool_calls: false", "gemini", "cannot be honoured (Gemini has no such setting)");
  const names = new Map<string, string>();
  const contents: Json[] = [];
  const origin = ctx.origin ?? "gemini";
  const strict = checksCallSignatures(ctx.model);
  for (const m of r.messages) {
    const parts: Json[] = [];
    // A thought signature Gemini wrote goes back on the part it signed: the one that follows it.
    let signature: string | null = null;
    const signed = (part: Json): void => {
      if (signature !== null) part.thoughtSignature = signature;
      signature = null;
      parts.push(part);
    };
    for (const p of m.parts) {
      if (p.type === "thinking") {
        // Only the model's own reasoning is replayed to it (another model's cannot be verified there).
        if (p.origin !== origin || !p.signature) continue;
        if (p.text !== "") parts.push({ text: p.text, thought: true, thoughtSignature: p.signature });
        else signature = p.signature;
      } else if (p.type === "text" && p.text !== "") signed({ text: p.text });
      else if (p.type === "image" || p.type === "document") {
        if (p.data === undefined) refuse(`${p.type} url`, "gemini", "cannot be honoured (Gemini does not fetch URLs; send the bytes)");
        parts.push({ inlineData: { mimeType: p.mediaType, data: p.data } });
      } else if (p.type === "tool_call") {
        names.set(p.id, p.name);
        signed({ functionCall: { id: p.id, name: p.name, args: p.args } });
      } else if (p.type === "tool_result") {
        const text = p.content.filter((c): c is TextPart => c.type === "text").map((c) => c.text).join("");
        if (p.content.some((c) => c.type !== "text")) refuse("tool result with an image or document", "gemini");
        const name = p.name ?? names.get(p.id);
        if (!name) refuse("tool result", "gemini", `for call '${p.id}' names no earlier call, which Gemini requires;`);
        parts.push({ functionResponse: { id: p.id, name, response: p.isError ? { error: text } : { output: text } } });
      }
    }
    // A signature that signed nothing after it (Gemini may end a turn so) stays on the turn's last part.
    if (signature !== null) {
      const last = parts.at(-1);
      if (last && last.thoughtSignature === undefined) last.thoughtSignature = signature;
      else parts.push({ text: "", thoughtSignature: signature });
    }
    if (m.role === "assistant" && strict) vouchForCalls(parts);
    if (parts.length) contents.push({ role: m.role === "assistant" ? "model" : "user", parts });
  }
  const body: Json = { contents };
  if (r.system) body.systemInstruction = { parts: [{ text: r.system }] };
  const g: Json = {};
  if (r.maxTokens !== null) g.maxOutputTokens = r.maxTokens;
  if (r.temperature !== null) g.temperature = r.temperature;
  if (r.topP !== null) g.topP = r.topP;
  if (r.topK !== null) g.topK = r.topK;
  if (r.stop.length) g.stopSequences = r.stop;
  if (r.output) {
    g.responseMimeType = "application/json";
    if (r.output.type === "json_schema") g.responseJsonSchema = r.output.schema;
  }
  if (r.reasoning) {
    // Never both a level and a budget (Gemini refuses the pair): the budget says everything.
    const budget = r.reasoning.budget ?? (r.reasoning.effort ? budgetOf({ effort: effortOf(r.reasoning) }) : -1);
    g.thinkingConfig = { thinkingBudget: budget, ...(r.reasoning.show ? { includeThoughts: true } : {}) };
  }
  if (Object.keys(g).length) body.generationConfig = g;
  if (r.tools.length) {
    body.tools = [{ functionDeclarations: r.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), parametersJsonSchema: t.schema })) }];
    const c = r.toolChoice;
    if (c) body.toolConfig = { functionCallingConfig: c.type === "tool" ? { mode: "ANY", allowedFunctionNames: [c.name] } : { mode: c.type === "required" ? "ANY" : c.type.toUpperCase() } };
  }
  return body;
}
