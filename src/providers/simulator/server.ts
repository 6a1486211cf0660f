import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { renderError } from "../../errors/index.js";
import type { WireDialect } from "../types.js";
import { simulateCountTokens, simulateMessages, thinkingRefusal } from "./anthropic.js";
import { simulateAzure } from "./azure.js";
import { listCloudModels, simulateBedrock } from "./bedrock.js";
import { CloudState, type CloudIdentities } from "./clouds.js";
import { answerFault, sendJson, simId, type SimCall } from "./emit.js";
import { simulateEmbedContents, simulateGeminiCountTokens, simulateGenerate, unsignedFunctionCall } from "./gemini.js";
import { simulateChat, simulateEmbeddings, simulateResponses } from "./openai.js";
import { simulateCompletion, simulateModeration } from "./openai-legacy.js";
import { planScript, promptText, type SimulatorCaps } from "./script.js";
import { answerResource } from "./resources.js";
import { answerGeminiCaches, answerOpenAIStored } from "./stored.js";
import { answerStructured, planStructured, planToolCall, type SimShape } from "./tools.js";
import { simulateGoogleToken, simulateVertex } from "./vertex.js";

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Milliseconds between streamed tokens (0: as fast as possible). */
  paceMs?: number;
  /** Limits on what a request may ask for (the built-in simulator serving test keys); none by default. */
  caps?: SimulatorCaps | null;
  /** Credentials the simulated Bedrock, Vertex AI and Azure OpenAI accept. */
  clouds?: CloudIdentities;
  /** Serves HTTPS with this key and certificate (PEM): Entra ID's clients refuse a plain-HTTP authority. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface SimulatorStats {
  requests: number;
  /** Responses whose connection closed before they were complete (the gateway aborted them). */
  cut: number;
  /** Requests per credential (the key the caller authenticated with). */
  byKey: Map<string, number>;
  /** Requests per credential and path (`<key> <path>`): which API of an upstream a credential was sent to. */
  byKeyAndPath: Map<string, number>;
}

export interface SimulatorServer {
  server: Server;
  url: string;
  port: number;
  stats: SimulatorStats;
  /** The simulated clouds' state: minted tokens, what the gateway sent. */
  cloud: CloudState;
  close(): Promise<void>;
}

const SIM_MODELS = ["sim-small", "sim-large", "sim-embedding"];

/** The simulator as an HTTP server: an upstream that speaks Anthropic, OpenAI and Gemini. */
export async function createSimulatorServer(o: SimulatorOptions = {}): Promise<SimulatorServer> {
  const stats: SimulatorStats = { requests: 0, cut: 0, byKey: new Map(), byKeyAndPath: new Map() };
  const paceMs = o.paceMs ?? 0;
  const caps = o.caps ?? null;
  const cloud = new CloudState(o.clouds);
  const handler = (req: IncomingMessage, res: ServerResponse) => handleSimulated(req, res, paceMs, stats, caps, cloud);
  const server = o.tls ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert }, handler) : createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server, port, stats, cloud, url: `${o.tls ? "https" : "http"}://${o.host ?? "127.0.0.1"}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Handles one request; also used in-process by the gateway's built-in simulator. */
export function handleSimulated(req: IncomingMessage, res: ServerResponse, paceMs: number, stats?: SimulatorStats, caps: SimulatorCaps | null = null, cloud?: CloudState): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    try {
      const raw = Buffer.concat(chunks);
      if (cloud && routeCloud(req, res, raw, paceMs, cloud)) return;
      route(req, res, raw.toString("utf8"), paceMs, stats, caps);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `simulator: ${(err as Error).message}` } }));
    }
  });
}

function route(req: IncomingMessage, res: ServerResponse, text: string, paceMs: number, stats: SimulatorStats | undefined, caps: SimulatorCaps | null): void {
  const url = new URL(req.url ?? "/", "http://sim");
  const path = url.pathname;
  const auth = String(req.headers["x-api-key"] ?? req.headers["x-goog-api-key"] ?? req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (stats) {
    res.once("close", () => {
      if (!res.writableFinished) stats.cut++;
    });
    stats.requests++;
    stats.byKey.set(auth, (stats.byKey.get(auth) ?? 0) + 1);
    const at = `${auth} ${path}`;
    stats.byKeyAndPath.set(at, (stats.byKeyAndPath.get(at) ?? 0) + 1);
  }
  if (answerResource(req, res, path, text) || answerOpenAIStored(req, res, path, Buffer.from(text)) || answerGeminiCaches(req, res, path, text)) return;
  const gemini = /\/v1(?:beta)?\/models\/([^/:]+):(\w+)$/.exec(path);
  const dialect: WireDialect = gemini || path.endsWith("/v1beta/models") || (path.endsWith("/v1/models") && req.headers["x-goog-api-key"]) ? "gemini"
    : /\/(chat\/completions|embeddings|responses)$/.test(path) ? "openai"
      : path.endsWith("/messages") || path.endsWith("/count_tokens") || req.headers["anthropic-version"] ? "anthropic" : "openai";
  const headers: Record<string, string> = dialect === "anthropic" ? { "request-id": simId("req_sim") } : { "x-request-id": simId("req_sim") };
  if (req.method === "GET") {
    listModels(res, dialect, headers);
    return;
  }
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    res.writeHead(400, { ...headers, "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "simulator: malformed JSON" } }));
    return;
  }
  const gen = body.generationConfig as { maxOutputTokens?: number } | undefined;
  const maxTokens = (body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens ?? gen?.maxOutputTokens ?? null) as number | null;
  const script = planScript(text, req.headers, maxTokens, promptText(body), caps);
  const model = gemini ? decodeURIComponent(gemini[1]!) : String(body.model ?? "sim-small");
  const stream = gemini ? gemini[2] === "streamGenerateContent" : body.stream === true;
  const owner = ownerOf(model);
  if (owner && owner !== dialect) {
    // As the real providers do: a model is served in its provider's dialect only (the gateway translates).
    const { status, body: err } = renderError(dialect, { code: "model_not_found", message: `simulator: the model '${model}' is not served on ${path}.`, requestId: headers["request-id"] ?? headers["x-request-id"] ?? "req_sim" });
    res.writeHead(status, { ...headers, "content-type": "application/json" });
    res.end(JSON.stringify(err));
    return;
  }
  const unsigned = gemini && /Content$/.test(gemini[2]!) ? unsignedFunctionCall(model, body)
    : path.endsWith("/messages") && dialect === "anthropic" ? thinkingRefusal(body) : null;
  if (unsigned) {
    // As Gemini 3 and Anthropic do: signed reasoning in the history must come back as it was written.
    const { status, body: err } = renderError(dialect, { code: "invalid_request", message: unsigned, requestId: headers["request-id"] ?? headers["x-request-id"] ?? "req_sim" });
    res.writeHead(status, { ...headers, "content-type": "application/json" });
    res.end(JSON.stringify(err));
    return;
  }
  const shape = shapeOf(path, gemini?.[2]);
  const tool = shape ? planToolCall(shape, body) : null;
  const structured = shape && !tool ? planStructured(shape, body) : null;
  // The answer is JSON fitting the requested schema, streamed (and billed) in token-sized pieces.
  if (structured !== null) answerStructured(script, structured, maxTokens);
  const call: SimCall = { res, body, model, script, stream, paceMs, headers, tool };
  const answer = () => {
    if (answerFault(dialect, script.fault, res, headers)) return;
    if (gemini) {
      if (gemini[2] === "countTokens") simulateGeminiCountTokens(call);
      else if (gemini[2] === "embedContent" || gemini[2] === "batchEmbedContents") simulateEmbedContents(call, gemini[2] === "batchEmbedContents");
      else simulateGenerate(call, url.searchParams.get("alt") === "sse");
    } else if (path.endsWith("/messages/count_tokens")) simulateCountTokens(call);
    else if (path.endsWith("/messages")) simulateMessages(call);
    else if (path.endsWith("/chat/completions")) simulateChat(call);
    else if (path.endsWith("/embeddings")) simulateEmbeddings(call);
    else if (path.endsWith("/responses")) simulateResponses(call);
    else if (path.endsWith("/completions")) simulateCompletion(call);
    else if (path.endsWith("/moderations")) simulateModeration(call);
    else {
      res.writeHead(404, { ...headers, "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `simulator: no route ${path}` } }));
    }
  };
  if (script.fault === "slow") setTimeout(answer, script.delayMs);
  else answer();
}

/** The API a generation request speaks, from its path; null for every other endpoint. */
function shapeOf(path: string, geminiMethod: string | undefined): SimShape | null {
  if (geminiMethod) return geminiMethod === "generateContent" || geminiMethod === "streamGenerateContent" ? "gemini" : null;
  if (path.endsWith("/messages")) return "anthropic";
  if (path.endsWith("/chat/completions")) return "chat";
  if (path.endsWith("/responses")) return "responses";
  return null;
}

/** The provider whose dialect a model name belongs to (null: a simulator model, served in every dialect). */
export function ownerOf(model: string): WireDialect | null {
  if (model.startsWith("claude-")) return "anthropic";
  if (/^(gpt-|o\d|chatgpt-|text-embedding-3|text-embedding-ada)/.test(model)) return "openai";
  if (/^(models\/)?gemini-/.test(model)) return "gemini";
  return null;
}

function listModels(res: ServerResponse, dialect: WireDialect, headers: Record<string, string>): void {
  const call = { res, headers, script: { fault: null } } as unknown as SimCall;
  if (dialect === "gemini") sendJson(call, { models: SIM_MODELS.map((m) => ({ name: `models/${m}`, displayName: m })) });
  else if (dialect === "anthropic") sendJson(call, { data: SIM_MODELS.map((id) => ({ id, type: "model", display_name: id, created_at: "2026-01-01T00:00:00Z" })), has_more: false, first_id: SIM_MODELS[0], last_id: SIM_MODELS.at(-1) });
  else sendJson(call, { object: "list", data: SIM_MODELS.map((id) => ({ id, object: "model", created: 1767225600, owned_by: "latchkey-simulator" })) });
}

const BEDROCK = /^\/model\/([^/]+)\/([\w-]+)$/;
const VERTEX = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/(anthropic|google)\/models\/([^/:]+):(\w+)$/;
const AZURE = /^\/openai\/(?:deployments\/([^/]+)\/|v1\/)(chat\/completions|embeddings|responses)$/;

/** The cloud providers' own routes (Bedrock, Vertex AI and its token endpoint, Azure OpenAI); false for any other path. */
function routeCloud(req: IncomingMessage, res: ServerResponse, raw: Buffer, paceMs: number, cloud: CloudState): boolean {
  const url = new URL(req.url ?? "/", "http://sim");
  const path = url.pathname;
  const text = raw.toString("utf8");
  if (cloud.entra.route(req, res, path, text)) return true;
  if (req.method === "POST" && path === "/token") {
    simulateGoogleToken(res, text, cloud);
    return true;
  }
  if (req.method === "GET" && (path === "/foundation-models" || path === "/openai/models")) {
    listCloudModels(req, res, raw, cloud, path === "/foundation-models");
    return true;
  }
  const b = BEDROCK.exec(path);
  const v = b ? null : VERTEX.exec(path);
  const a = b || v ? null : AZURE.exec(path);
  if (!b && !v && !a) return false;
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // Bedrock answers malformed JSON itself; the others below.
    if (!b) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } }));
      return true;
    }
  }
  const gen = body.generationConfig as { maxOutputTokens?: number } | undefined;
  const inference = body.inferenceConfig as { maxTokens?: number } | undefined;
  const maxTokens = (body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens ?? gen?.maxOutputTokens ?? inference?.maxTokens ?? null) as number | null;
  const script = planScript(text, req.headers, maxTokens, promptText(body));
  const headers: Record<string, string> = { "x-request-id": simId("req_sim") };
  if (b) {
    simulateBedrock(req, res, raw, { script, paceMs, headers }, cloud, b[1]!, b[2]!).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `simulator: ${(err as Error).message}` }));
    });
    return true;
  }
  const call: SimCall = { res, body, model: "", script, stream: body.stream === true, paceMs, headers };
  if (v) simulateVertex(req, res, call, cloud, v[1]!, decodeURIComponent(v[2]!), v[3]!, url.searchParams.get("alt"));
  else simulateAzure(req, res, call, cloud, a![1] ? decodeURIComponent(a![1]) : null, a![2]!, url.searchParams.get("api-version"));
  return true;
}
