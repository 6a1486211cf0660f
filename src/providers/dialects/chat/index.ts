import type { DialectCodec } from "../codec.js";
import { decodeChatRequest, encodeChatRequest } from "./request.js";
import { decodeChatResponse, encodeChatResponse } from "./response.js";
import { ChatStreamDecoder, ChatStreamEncoder } from "./stream.js";

/** OpenAI Chat Completions. */
export const chatCodec: DialectCodec = {
  dialect: "chat",
  decodeRequest: decodeChatRequest,
  encodeRequest: encodeChatRequest,
  decodeResponse: decodeChatResponse,
  encodeResponse: encodeChatResponse,
  newStreamDecoder: () => new ChatStreamDecoder(),
  newStreamEncoder: (o) => new ChatStreamEncoder(o.model, o.includeUsage, o.requestId),
};
