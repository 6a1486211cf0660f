import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";

/** generateContent and streamGenerateContent (`alt=sse` or a JSON array) in Gemini's shape. */
export function simulateGenerate(call: SimCall, sse: boolean): void {
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
