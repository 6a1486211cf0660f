import { anthropicCodec } from "./anthropic/index.js";
import type { CodecDialect } from "./canonical.js";
import { chatCodec } from "./chat/index.js";
import type { DialectCodec } from "./codec.js";
import { geminiCodec } from "./gemini/index.js";
import { responsesCodec } from "./responses/index.js";

export * from "./canonical.js";
export * from "./codec.js";

/** Every dialect's codecs; a provider names the one it speaks natively. */
export const CODECS: Readonly<Record<CodecDialect, DialectCodec>> = {
  anthropic: anthropicCodec,
  chat: chatCodec,
  responses: responsesCodec,
  gemini: geminiCodec,
};
export { decodeGeminiEmbedResponse, encodeGeminiEmbedRequest } from "./gemini/embeddings.js";
