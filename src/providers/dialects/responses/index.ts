import type { DialectCodec } from "../codec.js";
import { decodeResponsesRequest, encodeResponsesRequest } from "./request.js";
import { decodeResponsesResponse, encodeResponsesResponse } from "./response.js";
import { ResponsesStreamDecoder, ResponsesStreamEncoder } from "./stream.js";

/** OpenAI Responses (stateless use only). */
export const responsesCodec: DialectCodec = {
  dialect: "responses",
  decodeRequest: decodeResponsesRequest,
  encodeRequest: encodeResponsesRequest,
  decodeResponse: decodeResponsesResponse,
  encodeResponse: encodeResponsesResponse,
  newStreamDecoder: () => new ResponsesStreamDecoder(),
  newStreamEncoder: (o) => new ResponsesStreamEncoder(o.model, o.requestId),
};
