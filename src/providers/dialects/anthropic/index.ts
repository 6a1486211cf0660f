import type { DialectCodec } from "../codec.js";
import { decodeAnthropicRequest, encodeAnthropicRequest } from "./request.js";
import { decodeAnthropicResponse, encodeAnthropicResponse } from "./response.js";
import { AnthropicStreamDecoder, AnthropicStreamEncoder } from "./stream.js";

/** Anthropic Messages. */
export const anthropicCodec: DialectCodec = {
  dialect: "anthropic",
  decodeRequest: decodeAnthropicRequest,
  encodeRequest: encodeAnthropicRequest,
  decodeResponse: decodeAnthropicResponse,
  encodeResponse: encodeAnthropicResponse,
  newStreamDecoder: () => new AnthropicStreamDecoder(),
  newStreamEncoder: (o) => new AnthropicStreamEncoder(o.model, o.requestId),
};
