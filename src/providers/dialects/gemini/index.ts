import type { DialectCodec } from "../codec.js";
import { decodeGeminiRequest, encodeGeminiRequest } from "./request.js";
import { decodeGeminiResponse, encodeGeminiResponse } from "./response.js";
import { GeminiStreamDecoder, GeminiStreamEncoder } from "./stream.js";

/** Gemini generateContent / streamGenerateContent. */
export const geminiCodec: DialectCodec = {
  dialect: "gemini",
  decodeRequest: decodeGeminiRequest,
  encodeRequest: encodeGeminiRequest,
  decodeResponse: decodeGeminiResponse,
  encodeResponse: encodeGeminiResponse,
  newStreamDecoder: () => new GeminiStreamDecoder(),
  newStreamEncoder: (o) => new GeminiStreamEncoder(o.model, o.sse, o.requestId),
};
