import { geminiCodec } from "../dialects/gemini/index.js";
import { splitBaseUrl, type Provider } from "../types.js";

const METHODS = { generate: "generateContent", stream_generate: "streamGenerateContent", gemini_count_tokens: "countTokens" } as const;

/** Google Gemini: generateContent natively; other dialects are translated into it (not its OpenAI-compatible endpoint). */
export const gemini: Provider = {
  id: "gemini",
  dialects: ["gemini"],
  defaultBaseUrl: "https://generativelanguage.googleapis.com",
  codec: geminiCodec,
  target(r, baseUrl, secret) {
    if (r.dialect !== "gemini" || !(r.op === "generate" || r.op === "stream_generate" || r.op === "gemini_count_tokens")) return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const sse = r.op === "stream_generate" && r.sse ? "?alt=sse" : "";
    return { origin, path: `${prefix}/v1beta/models/${encodeURIComponent(r.model)}:${METHODS[r.op]}${sse}`, auth: [["x-goog-api-key", secret]], dialect: "gemini" };
  },
};
