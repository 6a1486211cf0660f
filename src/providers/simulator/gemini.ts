import { geminiFunctionCall, signsFunctionCalls, simThoughtSignature } from "./tool-calls.js";
import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";

/** generateContent and streamGenerateContent (`alt=sse` or a JSON array) in Gemini's shape. */
export function simulateGenerate(call: SimCall, sse: boolean): void {
  if (call.tool) {
    geminiFunctionCall(call, call.tool, sse);
    return;
  }
  const { script, model } = call;
  const responseId = simId("sim");
  const finishReason = script.stopReason === "max_tokens" ? "MAX_TOKENS" : "STOP";
  const usage = (output: number) => ({
    promptTokenCount: script.inputTokens + script.cacheRead, candidatesTokenCount: output,
    totalTokenCount: script.inputTokens + script.cacheRead + output, ...(script.cacheRead ? { cachedContentTokenCount: script.cacheRead } : {}),
  });
  const candidate = (text: string, done: boolean) => ({ content: { parts: [{ text }], role: "model" }, ...(done ? { finishReason } : {}), index: 0 });
  if (!call.stream) {
    sendJson(call, { candidates: [candidate(script.words.join(""), true)], usageMetadata: usage(script.words.length), modelVersion: model, responseId });
    return;
  }
  const chunks = script.words.map((w, i) => ({ candidates: [candidate(w, i === script.words.length - 1)], usageMetadata: usage(i + 1), modelVersion: model, responseId }));
  if (sse) {
    sendEvents(call, chunks.map((c) => sseEvent(null, c)));
    return;
  }
  sendEvents(call, chunks.map((c, i) => (i === 0 ? "[" : ",\r\n") + JSON.stringify(c) + (i === chunks.length - 1 ? "]" : "")), "application/json");
}

export function simulateGeminiCountTokens(call: SimCall): void {
  sendJson(call, { totalTokens: call.script.inputTokens });
}

/** embedContent and batchEmbedContents: small deterministic vectors, and usage as the newest API reports it. */
export function simulateEmbedContents(call: SimCall, batch: boolean): void {
  const requests = batch ? ((call.body.requests as Record<string, unknown>[] | undefined) ?? []) : [call.body];
  // Gemini's own limit on one batchEmbedContents call.
  if (requests.length > 100) {
    const text = JSON.stringify({ error: { code: 400, message: "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n", status: "INVALID_ARGUMENT" } });
    call.res.writeHead(400, { ...call.headers, "content-type": "application/json" });
    call.res.end(text);
    return;
  }
  const embeddings = requests.map((r) => {
    const seed = JSON.stringify(r.content ?? "").length;
    return { values: Array.from({ length: 8 }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4) };
  });
  const tokens = call.script.inputTokens;
  // usageMetadata comes last, as Google sends it: the gateway reads it from the body's tail.
  const usageMetadata = { promptTokenCount: tokens, totalTokenCount: tokens };
  sendJson(call, batch ? { embeddings, usageMetadata } : { embedding: embeddings[0], usageMetadata });
}

/**
 * Gemini 3's check of the history (translation.md §2.6): the first function call of each model
 * turn must carry a thought signature, one this model wrote for that call or Google's documented
 * stand-in (`skip_thought_signature_validator`). The refusal's message, or null when the history passes.
 */
export function unsignedFunctionCall(model: string, body: Record<string, unknown>): string | null {
  if (!signsFunctionCalls(model) || !Array.isArray(body.contents)) return null;
  for (const [i, c] of (body.contents as { role?: string; parts?: Record<string, unknown>[] }[]).entries()) {
    if (c?.role !== "model" || !Array.isArray(c.parts)) continue;
    const j = c.parts.findIndex((p) => p && typeof p === "object" && (p.functionCall ?? p.function_call));
    if (j < 0) continue;
    const sig = c.parts[j]!.thoughtSignature ?? c.parts[j]!.thought_signature;
    if (typeof sig !== "string" || sig === "") return `Function call is missing a thought_signature in functionCall parts (contents[${i}].parts[${j}]). This is required for tools to work correctly.`;
    const call = (c.parts[j]!.functionCall ?? c.parts[j]!.function_call) as { name?: unknown };
    if (sig !== "skip_thought_signature_validator" && sig !== simThoughtSignature(model, String(call.name))) return `Corrupted thought signature in contents[${i}].parts[${j}].`;
  }
  return null;
}
