import { anthropicCodec } from "../dialects/anthropic/index.js";
import { splitBaseUrl, type Provider } from "../types.js";

/**
 * Anthropic: Messages natively. Other dialects are translated into Messages rather than sent to
 * Anthropic's OpenAI-compatible endpoint, which drops prompt caching and extended thinking.
 */
/** What Anthropic's API documents for callers: the version and beta opt-ins, and the body's type. */
export const ANTHROPIC_CLIENT_HEADERS = ["anthropic-version", "anthropic-beta", "content-type", "accept"] as const;

export const anthropic: Provider = {
  id: "anthropic",
  dialects: ["anthropic"],
  defaultBaseUrl: "https://api.anthropic.com",
  codec: anthropicCodec,
  target(r, baseUrl, secret) {
    if (r.dialect !== "anthropic") return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const path = r.op === "count_tokens" ? "/v1/messages/count_tokens" : "/v1/messages";
    return { origin, path: prefix + path, auth: [["x-api-key", secret]], dialect: "anthropic", clientHeaders: ANTHROPIC_CLIENT_HEADERS };
  },
};
