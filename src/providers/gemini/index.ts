import { splitBaseUrl, type Provider } from "../types.js";

const METHODS = { generate: "generateContent", stream_generate: "streamGenerateContent", gemini_count_tokens: "countTokens" } as const;

/** Google Gemini: generateContent natively; Chat Completions through its OpenAI-compatible endpoint. */
export const gemini: Provider = {
  id: "gemini",
  dialects: ["gemini"],
  defaultBaseUrl: "https://generativelanguage.googleapis.com",
  target(r, baseUrl, secret) {
    const { origin, prefix } = splitBaseUrl(baseUrl);
    if (r.dialect === "gemini" && (r.op === "generate" || r.op === "stream_generate" || r.op === "gemini_count_tokens")) {
      const sse = r.op === "stream_generate" && r.sse ? "?alt=sse" : "";
      return { origin, path: `${prefix}/v1beta/models/${encodeURIComponent(r.model)}:${METHODS[r.op]}${sse}`, auth: [["x-goog-api-key", secret]], dialect: "gemini" };
    }
    if (r.op === "chat") return { origin, path: `${prefix}/v1beta/openai/chat/completions`, auth: [["authorization", `Bearer ${secret}`]], dialect: "openai" };
    return null;
  },
};
