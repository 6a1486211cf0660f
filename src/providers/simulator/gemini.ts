import { geminiFunctionCall } from "./tool-calls.js";
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
  const embeddings = requests.map((r) => {
    const seed = JSON.stringify(r.content ?? "").length;
    return { values: Array.from({ length: 8 }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4) };
  });
  const tokens = call.script.inputTokens;
  // usageMetadata comes last, as Google sends it: the gateway reads it from the body's tail.
  const usageMetadata = { promptTokenCount: tokens, totalTokenCount: tokens };
  sendJson(call, batch ? { embeddings, usageMetadata } : { embedding: embeddings[0], usageMetadata });
}
