import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventStreamCodec } from "@smithy/core/event-streams";
import { lazyRequire } from "../../lib/lazy-require.js";
import { simulateMessages } from "./anthropic.js";
import type { CloudState } from "./clouds.js";
import { answerConverse, converseProblem } from "./converse.js";
import { COGNITIVE_AUDIENCE } from "./entra.js";
import { sendEvents, simId, type SimCall } from "./emit.js";
import type { Script } from "./script.js";
import { answerStructured, planStructured, planToolCall } from "./tools.js";

/** Model families Bedrock serves besides Anthropic's (Converse only, in this simulator), with or without a geography prefix. */
const OTHER_FAMILIES = /^(?:(?:us|eu|apac|jp|au|us-gov|global)\.)?(?:meta\.llama|mistral\.|amazon\.nova|cohere\.command|ai21\.|deepseek\.|qwen\.|openai\.gpt-oss)/;

const ALLOWED_KEYS = new Set(["anthropic_version", "anthropic_beta", "max_tokens", "messages", "system", "stop_sequences", "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "metadata"]);
// The AWS SDK's pieces, loaded when the simulator first answers as Bedrock (the simulator runs in
// every default install; few of its callers speak Bedrock).
const awsSha256 = lazyRequire<typeof import("@aws-crypto/sha256-js")>("@aws-crypto/sha256-js");
const smithySigner = lazyRequire<typeof import("@smithy/signature-v4")>("@smithy/signature-v4");
const eventStreams = lazyRequire<typeof import("@smithy/core/event-streams")>("@smithy/core/event-streams");
let eventCodec: EventStreamCodec | null = null;
const codec = (): EventStreamCodec => (eventCodec ??= new (eventStreams().EventStreamCodec)((b) => Buffer.from(b).toString("utf8"), (s) => Buffer.from(s, "utf8")));

/** Answers as Bedrock does: `{"message"}` with the exception's name in `x-amzn-ErrorType`. */
export function bedrockError(res: ServerResponse, status: number, type: string, message: string, capital = false): void {
  res.writeHead(status, {
    "content-type": "application/json", "x-amzn-requestid": simId("sim-"), "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    date: new Date().toUTCString(),
  });
  res.end(JSON.stringify(capital ? { Message: message } : { message }));
}

/**
 * Checks a request as Bedrock does: a Bedrock API key, or a SigV4 signature recomputed with the
 * AWS SDK's own signer from the request as received and compared in constant time. Returns an
 * error to answer, or null when the request is authentic.
 */
async function authenticate(req: IncomingMessage, raw: Buffer, cloud: CloudState): Promise<[number, string, string, boolean?] | null> {
  const auth = String(req.headers.authorization ?? "");
  if (auth.startsWith("Bearer ")) {
    return cloud.ids.bedrockApiKeys?.includes(auth.slice(7)) ? null : [403, "AccessDeniedException", "Authentication failed: Please make sure your API Key is valid.", true];
  }
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."];
  const [, akid, day, region, service, signedList, signature] = m as unknown as string[];
  const id = cloud.ids.aws?.find((k) => k.accessKeyId === akid);
  if (!id) return [403, "UnrecognizedClientException", "The security token included in the request is invalid."];
  if (service !== "bedrock") return [403, "InvalidSignatureException", `Credential should be scoped to correct service: 'bedrock'.`];
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const signed = signedList!.split(";");
  if (!signed.includes("host") || !signed.includes("x-amz-date") || !amzDate.startsWith(day!)) return [403, "IncompleteSignatureException", "The request signature must cover host and x-amz-date, dated as its scope."];
  const at = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(Date.now() - at) > 5 * 60_000) return [403, "InvalidSignatureException", `Signature expired: ${amzDate} is now earlier than the allowed window (5 min).`];
  if (id.sessionToken !== undefined && req.headers["x-amz-security-token"] !== id.sessionToken) return [403, "UnrecognizedClientException", "The security token included in the request is invalid."];
  const bodyHash = createHash("sha256").update(raw).digest("hex");
  const claimed = req.headers["x-amz-content-sha256"];
  if (claimed !== undefined && claimed !== bodyHash) return [400, "ValidationException", "The provided 'x-amz-content-sha256' header does not match what was computed."];
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const headers: Record<string, string> = {};
  for (const h of signed) headers[h] = String(req.headers[h] ?? "");
  const v4 = new (smithySigner().SignatureV4)({ credentials: id, region: region!, service: "bedrock", sha256: awsSha256().Sha256, uriEscapePath: true });
  const again = await v4.sign({
    method: req.method ?? "POST", protocol: "http:", hostname: headers.host ?? "", path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1))), headers, body: raw,
  }, { signingDate: new Date(at) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization))?.[1] ?? "";
  const ok = expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  return ok ? null : [403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."];
}

const FAULTS: Record<string, [number, string, string]> = {
  "429": [429, "ThrottlingException", "Too many requests, please wait before trying your request again."],
  "500": [500, "InternalServerException", "The server encountered an internal error while processing the request."],
  "503": [503, "ServiceUnavailableException", "Bedrock is unable to process your request."],
  "529": [503, "ServiceUnavailableException", "Bedrock is unable to process your request."],
};

/** POST /model/{modelId}/invoke and /invoke-with-response-stream, as Bedrock answers them for Anthropic models. */
export async function simulateBedrock(req: IncomingMessage, res: ServerResponse, raw: Buffer, call: Omit<SimCall, "res" | "body" | "model" | "stream">, cloud: CloudState, modelLabel: string, op: string): Promise<void> {
  const refused = await authenticate(req, raw, cloud);
  if (refused) return bedrockError(res, refused[0], refused[1], refused[2], refused[3]);
  cloud.seen.bedrockPaths.push(modelLabel);
  cloud.seen.bedrockOps.push(op);
  const model = decodeURIComponent(modelLabel);
  const anthropic = /(^|\.)anthropic\.claude/.test(model);
  if (!anthropic && !OTHER_FAMILIES.test(model)) return bedrockError(res, 404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.");
  if (op === "converse" || op === "converse-stream") return simulateConverse(res, raw, call, model, anthropic, op === "converse-stream");
  if (op !== "invoke" && op !== "invoke-with-response-stream") return bedrockError(res, 400, "ValidationException", `This simulator plays InvokeModel and Converse only, not ${op}.`);
  if (!anthropic) return bedrockError(res, 400, "ValidationException", "This simulator plays InvokeModel for Anthropic models only; call other families through Converse.");
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
  } catch {
    return bedrockError(res, 400, "ValidationException", "Malformed input request, please reformat your input and try again.");
  }
  const extra = Object.keys(body).filter((k) => !ALLOWED_KEYS.has(k));
  if (extra.length) return bedrockError(res, 400, "ValidationException", `Malformed input request: ${extra.map((k) => `#: extraneous key [${k}] is not permitted`).join("")}, please reformat your input and try again.`);
  // Bedrock's documented version, or a dated API version as the newest Anthropic Bedrock SDK sends.
  if (typeof body.anthropic_version !== "string" || !/^(bedrock-)?\d{4}-\d{2}-\d{2}$/.test(body.anthropic_version)) return bedrockError(res, 400, "ValidationException", "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.");
  if (typeof body.max_tokens !== "number" || !Array.isArray(body.messages)) return bedrockError(res, 400, "ValidationException", "Malformed input request: #: required key [max_tokens] or [messages] not found, please reformat your input and try again.");
  if (body.anthropic_beta !== undefined && !Array.isArray(body.anthropic_beta)) return bedrockError(res, 400, "ValidationException", "Malformed input request: #/anthropic_beta: expected type: JSONArray, please reformat your input and try again.");
  const fault = call.script.fault ? FAULTS[call.script.fault] : undefined;
  if (fault) return bedrockError(res, ...fault);
  const stream = op === "invoke-with-response-stream";
  const headers = { ...call.headers, "x-amzn-requestid": simId("sim-"), "x-amzn-bedrock-invocation-latency": "120", ...tokenHeaders(call.script) };
  const full: SimCall = { ...call, res, body, model, stream, headers: stream ? { ...headers, "x-amzn-bedrock-content-type": "application/json" } : headers };
  if (stream) full.frames = (events) => sendFrames(full, events);
  simulateMessages(full);
}

/** POST /model/{modelId}/converse and /converse-stream: Bedrock's own schema, checked as Bedrock checks it. */
function simulateConverse(res: ServerResponse, raw: Buffer, call: Omit<SimCall, "res" | "body" | "model" | "stream">, model: string, anthropic: boolean, stream: boolean): void {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
  } catch {
    return bedrockError(res, 400, "SerializationException", "Unable to parse the request body as JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return bedrockError(res, 400, "SerializationException", "The request body must be a JSON object.");
  const problem = converseProblem(body, anthropic);
  if (problem) return bedrockError(res, 400, "ValidationException", problem);
  const fault = call.script.fault ? FAULTS[call.script.fault] : undefined;
  if (fault) return bedrockError(res, ...fault);
  const headers = { ...call.headers, "x-amzn-requestid": simId("sim-") };
  const tool = planToolCall("converse", body);
  const structured = tool ? null : planStructured("converse", body);
  if (structured !== null) answerStructured(call.script, structured, (body.inferenceConfig as { maxTokens?: number } | undefined)?.maxTokens ?? null);
  const full: SimCall = { ...call, res, body, model, stream, headers, tool };
  answerConverse(full, converseFrame);
}

function converseFrame(eventType: string, data: Record<string, unknown>): Buffer {
  // Bedrock pads each event's JSON with a "p" field of varying length; readers ignore it.
  return Buffer.from(codec().encode({
    headers: { ":event-type": { type: "string", value: eventType }, ":content-type": { type: "string", value: "application/json" }, ":message-type": { type: "string", value: "event" } },
    body: Buffer.from(JSON.stringify({ ...data, p: "abcdefghijklmnopqrstuvwxyz".slice(0, 1 + (eventType.length % 20)) })),
  }));
}

function tokenHeaders(s: Script): Record<string, string> {
  return { "x-amzn-bedrock-input-token-count": String(s.inputTokens), "x-amzn-bedrock-output-token-count": String(s.words.length) };
}

/**
 * Each event as an AWS event-stream `chunk` frame (`{"bytes": base64, "p": padding}`), the last
 * with Bedrock's invocation metrics; the bytes go out in pieces that cut frames anywhere, as the
 * network does.
 */
function sendFrames(call: SimCall, events: [string, Record<string, unknown>][]): void {
  const s = call.script;
  const frames = events.map(([type, data], i) => {
    const event = type === "message_stop"
      ? { ...data, "amazon-bedrock-invocationMetrics": { inputTokenCount: s.inputTokens, outputTokenCount: s.words.length, invocationLatency: 120, firstByteLatency: 40 } }
      : data;
    const payload = JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString("base64"), p: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ".slice(0, 1 + (i % 30)) });
    return Buffer.from(codec().encode({
      headers: { ":event-type": { type: "string", value: "chunk" }, ":content-type": { type: "string", value: "application/json" }, ":message-type": { type: "string", value: "event" } },
      body: Buffer.from(payload),
    }));
  });
  const all = Buffer.concat(frames);
  const pieces: Buffer[] = [];
  for (let i = 0; i < all.length; i += 97) pieces.push(all.subarray(i, i + 97));
  sendEvents(call, pieces, "application/vnd.amazon.eventstream", true);
}

/** GET /foundation-models (Bedrock's control plane, signed) and GET /openai/models (Azure, api-key): what a credential test calls. */
export function listCloudModels(req: IncomingMessage, res: ServerResponse, raw: Buffer, cloud: CloudState, bedrock: boolean): void {
  if (!bedrock) {
    const key = req.headers["api-key"];
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const authentic = typeof key === "string" ? (cloud.ids.azureKeys ?? []).includes(key) : bearer !== undefined && cloud.entra.accepts(bearer, COGNITIVE_AUDIENCE);
    const ok = authentic && new URL(req.url ?? "/", "http://sim").searchParams.has("api-version");
    res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
    res.end(JSON.stringify(ok ? { data: Object.values(cloud.ids.azureDeployments ?? {}).map((id) => ({ id, object: "model" })), object: "list" } : { error: { code: "401", message: "Access denied due to invalid subscription key or wrong API endpoint." } }));
    return;
  }
  void authenticate(req, raw, cloud).then((refused) => {
    if (refused) return bedrockError(res, refused[0], refused[1], refused[2], refused[3]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ modelSummaries: [{ modelId: "anthropic.claude-haiku-4-5-20251001-v1:0", providerName: "Anthropic" }] }));
  });
}
