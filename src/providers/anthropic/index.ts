import { splitBaseUrl, type Provider } from "../types.js";

/** Anthropic: Messages natively; Chat Completions through Anthropic's OpenAI-compatible endpoint. */
export const anthropic: Provider = {
  id: "anthropic",
  dialects: ["anthropic"],
  defaultBaseUrl: "https://api.anthropic.com",
  target(r, baseUrl, secret) {
    const { origin, prefix } = splitBaseUrl(baseUrl);
    if (r.dialect === "anthropic") {
      const path = r.op === "count_tokens" ? "/v1/messages/count_tokens" : "/v1/messages";
      return { origin, path: prefix + path, auth: [["x-api-key", secret]], dialect: "anthropic" };
    }
    if (r.op === "chat") return { origin, path: `${prefix}/v1/chat/completions`, auth: [["authorization", `Bearer ${secret}`]], dialect: "openai" };
    return null;
  },
};
