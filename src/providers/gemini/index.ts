import { geminiCodec } from "../dialects/gemini/index.js";
import { splitBaseUrl, type Operation, type Provider } from "../types.js";

const METHODS: Partial<Record<Operation, string>> = {
  generate: "generateContent", stream_generate: "streamGenerateContent", gemini_count_tokens: "countTokens",
  embed_content: "embedContent", batch_embed_contents: "batchEmbedContents",
};

/** Gemini callers set only the body's type; x-goog-user-project would bill another Google project. */
export const GEMINI_CLIENT_HEADERS = ["content-type", "accept"] as const;

/** Google Gemini: generateContent natively; other dialects are translated into it (not its OpenAI-compatible endpoint). */
export const gemini: Provider = {
  id: "gemini",
  dialects: ["gemini"],
  defaultBaseUrl: "https://generativelanguage.googleapis.com",
  codec: geminiCodec,
  target(r, baseUrl, secret) {
    const method = r.dialect === "gemini" ? METHODS[r.op] : undefined;
    if (!method) return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const sse = r.op === "stream_generate" && r.sse ? "?alt=sse" : "";
    // A Gemini caller's API version goes upstream (v1 for the newest SDKs); translated requests use v1beta.
    const version = r.inboundPath.startsWith("/v1/models/") ? "v1" : "v1beta";
    return { origin, path: `${prefix}/${version}/models/${encodeURIComponent(r.model)}:${method}${sse}`, auth: [["x-goog-api-key", secret]], dialect: "gemini", clientHeaders: GEMINI_CLIENT_HEADERS };
  },
};
