import { chatCodec } from "../dialects/chat/index.js";
import { splitBaseUrl, type Operation, type Provider } from "../types.js";

const PATHS: Partial<Record<Operation, string>> = {
  chat: "/chat/completions", embeddings: "/embeddings", responses: "/responses", completions: "/completions", moderations: "/moderations",
};

/** The base URL's path, "/v1" when it has none (the OpenAI SDK's convention includes it). */
export function openaiPrefix(prefix: string): string {
  return prefix === "" ? "/v1" : prefix;
}

/** What OpenAI's API documents for callers; not openai-organization or openai-project, which bill another account. */
export const OPENAI_CLIENT_HEADERS = ["content-type", "accept", "openai-beta"] as const;

/** OpenAI: Chat Completions, Embeddings and Responses; other dialects are translated into Chat Completions, which OpenAI-compatible servers also speak. */
export const openai: Provider = {
  id: "openai",
  dialects: ["openai"],
  defaultBaseUrl: "https://api.openai.com/v1",
  codec: chatCodec,
  target(r, baseUrl, secret) {
    const path = r.dialect === "openai" ? PATHS[r.op] : undefined;
    if (!path) return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    return { origin, path: openaiPrefix(prefix) + path, auth: [["authorization", `Bearer ${secret}`]], dialect: "openai", clientHeaders: OPENAI_CLIENT_HEADERS };
  },
};
