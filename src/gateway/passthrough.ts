import type { IncomingMessage, ServerResponse } from "node:http";
import type { VerifiedKey } from "../keys/index.js";
import { upstreamTrace, type UpstreamTrace } from "../telemetry/index.js";
import { getProvider, openaiPrefix, priceAt, splitBaseUrl, usageCostNano, type TokenUsage, type UsableCredential } from "../providers/index.js";
import { readBody } from "./body.js";
import type { GatewayCore } from "./core.js";
import type { AdmissionRequest } from "./admission.js";
import { allowsModel } from "./model-access.js";
import { msSince } from "./plan.js";
import { BatchResultsMeter } from "./passthrough-meter.js";
import type { RequestDetail } from "./observe.js";
import type { PassThrough } from "./passthrough-routes.js";
import { requestIdHeader, sendError } from "./respond.js";
import type { Route } from "./routes.js";
import { traceHeader } from "./trace-header.js";
import { clientResponseHeaders, upstreamRequestHeaders } from "./upstream-headers.js";

/** The caller's headers a stored-resource request needs upstream (a file upload's multipart boundary, API versions and betas). */
const PASSED_HEADERS = ["content-type", "accept", "anthropic-version", "anthropic-beta", "openai-beta"] as const;

/** Batch prices are half the model's price, at Anthropic and OpenAI alike. */
const BATCH_DISCOUNT = 2;

export interface PassContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: Route & { pass: PassThrough };
  entry: VerifiedKey;
  requestId: string;
  /** Path and query as the caller sent them. */
  url: string;
  startedAt: number;
  startedHr: number;
}

/** A pass-through call with, when tracing is on, the gateway span's ids that the upstream request names as its parent. */
interface TracedPass extends PassContext {
  trace: UpstreamTrace | null;
}

/**
 * Forwards a request for a stored resource (a batch, a file, a stored response, a cached content)
 * to the provider as it is, with the organization's credential. Stateful resources live in one
 * upstream account, so the same credential is always used: the workspace's own first (by id),
 * else the organization's. Batch results are metered once, at the batch price, when first read.
 */
export async function forwardPassThrough(core: GatewayCore, call: PassContext): Promise<void> {
  // As on every gateway request: the caller's trace continued (or a new one), the gateway's span its parent upstream.
  const c: TracedPass = { ...call, trace: core.observer.tracer ? upstreamTrace(traceHeader(call.req.headers.traceparent)) : null };
  const { pass, dialect } = c.route;
  const body = c.req.method === "GET" || c.req.method === "DELETE" ? Buffer.alloc(0) : await readBody(c.req, core.config.maxBodyBytes);
  const refusal = refuseBatchModels(core, c, body);
  if (refusal) {
    sendError(c.res, dialect, refusal.code, refusal.message, c.requestId, { param: "model" });
    return;
  }
  if (!(await admitBatch(core, c, body))) return;
  const target = await upstreamOf(core, c, pass);
  if (!target) {
    sendError(c.res, dialect, "invalid_request", `No ${pass.provider} credential is configured for this workspace; add one with 'latchkey credentials add --provider ${pass.provider}'.`, c.requestId);
    return;
  }
  const headers = upstreamRequestHeaders(c.req.headers, PASSED_HEADERS, body.length);
  for (const [name, value] of target.auth) headers[name] = value;
  if (c.trace) {
    headers.traceparent = c.trace.traceparent;
    const state = traceHeader(c.req.headers.tracestate);
    if (state !== undefined) headers.tracestate = state;
  }
  let answer;
  try {
    answer = await core.pool(target.origin).request({ path: target.path, method: c.req.method as "GET", headers, body: body.length ? body : null, headersTimeout: core.timeouts.firstByteMs, bodyTimeout: core.timeouts.idleMs });
  } catch {
    sendError(c.res, dialect, "upstream_error", "The provider could not be reached.", c.requestId);
    return;
  }
  const meter = pass.meter && answer.statusCode === 200 ? new BatchResultsMeter(pass.meter) : null;
  const rewrite = pass.provider === "anthropic" && !pass.meter && String(answer.headers["content-type"] ?? "").includes("json");
  if (rewrite) {
    // A batch names the URL of its results; the SDKs fetch it, so it must be ours, not the provider's.
    const text = (await answer.body.text()).replace(/"results_url":"[^"]*\/v1\/messages\/batches\/([A-Za-z0-9_.-]+)\/results"/g, `"results_url":"${gatewayBase(core, c.req)}/v1/messages/batches/$1/results"`);
    c.res.writeHead(answer.statusCode, { ...clientResponseHeaders(answer.headers, requestIdHeader(dialect), c.requestId, false), "content-length": String(Buffer.byteLength(text)) });
    c.res.end(text);
    recordCall(core, c, answer.statusCode);
    return;
  }
  c.res.writeHead(answer.statusCode, clientResponseHeaders(answer.headers, requestIdHeader(dialect), c.requestId, true));
  for await (const chunk of answer.body as AsyncIterable<Buffer>) {
    meter?.push(chunk);
    if (!c.res.write(chunk)) await new Promise((r) => c.res.once("drain", r));
  }
  c.res.end();
  meter?.end();
  if (!meter || !(await meterBatch(core, c, meter))) recordCall(core, c, answer.statusCode);
}

/**
 * A batch is created only while its key may still spend: one already past a spend limit, or with
 * no credit left, is refused here in the caller's format rather than after the batch has run (its
 * cost is known only when its results are read). The check reserves the smallest amount and gives
 * it back at once; false when it answered the caller.
 */
async function admitBatch(core: GatewayCore, c: TracedPass, body: Buffer): Promise<boolean> {
  const path = c.url.split("?")[0];
  if (!core.admission || c.req.method !== "POST" || (path !== "/v1/batches" && path !== "/v1/messages/batches")) return true;
  const request: AdmissionRequest = {
    requestId: c.requestId, at: c.startedAt, key: c.entry.key, workspace: c.entry.workspace, orgId: c.entry.key.orgId, provider: c.route.pass.provider,
    model: firstBatchModel(core, path, body), op: "passthrough", dialect: c.route.dialect, inputTokenBound: 0, outputTokenBound: 0, costBoundNano: 1,
  };
  let decision;
  try {
    decision = await core.admission.admit(request);
  } catch (err) {
    core.logger.warn({ err: (err as Error).message, requestId: c.requestId }, "a batch's limits could not be checked");
    sendError(c.res, c.route.dialect, "store_unavailable", "Spend limits and credits cannot be checked right now; the batch was not created.", c.requestId);
    recordCall(core, c, 503, "store_unavailable");
    return false;
  }
  if (!decision.allowed) {
    const status = sendError(c.res, c.route.dialect, decision.code, decision.message, c.requestId, { retryAfterSeconds: decision.retryAfterSeconds, headers: decision.headers });
    recordCall(core, c, status, decision.code);
    return false;
  }
  await core.admission.settle(request, decision.ticket, { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 0, status: 200, aborted: false });
  return true;
}

/** The catalog id of an Anthropic batch's first model, for the limits' records; an OpenAI batch's models are in its file. */
function firstBatchModel(core: GatewayCore, path: string, body: Buffer): string {
  if (path !== "/v1/messages/batches") return "none";
  try {
    const name = (JSON.parse(body.toString("utf8")) as { requests?: { params?: { model?: unknown } }[] }).requests?.[0]?.params?.model;
    return core.catalog.resolve(String(name ?? ""))?.id ?? "none";
  } catch {
    return "none";
  }
}

/** One record for every call whose key was known, like every gateway request: no tokens, no cost. */
function recordCall(core: GatewayCore, c: TracedPass, status: number, errorCode: string | null = status >= 400 ? "upstream_status" : null): void {
  core.record({
    id: c.requestId, at: c.startedAt, orgId: c.entry.key.orgId, workspaceId: c.entry.key.workspaceId, keyId: c.entry.key.id, provider: c.route.pass.provider,
    model: "none", endpoint: "passthrough", inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 0, status,
    errorCode, streamed: false, aborted: false, latencyMs: msSince(c.startedHr), ttfbMs: null,
  }, null, null, passDetail(c, status));
}

/**
 * The access log's, metrics' and span's detail of a pass-through call: one upstream attempt, the
 * caller's trace context. A batch's results read once are recorded once per model: the first record
 * takes the span the upstream request named as its parent, the others are spans under it.
 */
function passDetail(c: TracedPass, upstreamStatus: number, first = true): RequestDetail {
  const { req } = c;
  const traceparent = !first && c.trace ? c.trace.traceparent : traceHeader(req.headers.traceparent);
  return {
    keyName: c.entry.key.name, upstreamStatus, attempts: 1, deployment: null, refusal: null,
    traceparent, tracestate: traceHeader(req.headers.tracestate), trace: first ? c.trace : null,
  };
}

/** Records the batch's usage unless it was billed before; true when it recorded. */
async function meterBatch(core: GatewayCore, c: TracedPass, meter: BatchResultsMeter): Promise<boolean> {
  const { pass } = c.route;
  if (!meter.byModel.size || !pass.resourceId) return false;
  // Read twice, billed once: the first reader claims the batch.
  if (!(await core.store.batches.claim(pass.provider, pass.resourceId, c.entry.key.orgId, c.requestId, c.startedAt))) return false;
  let n = 0;
  for (const [name, usage] of meter.byModel) {
    const model = core.catalog.resolve(name);
    const costNano = model ? Math.round(usageCostNano(usage, priceAt(model, c.startedAt)) / BATCH_DISCOUNT) : 0;
    const first = n++ === 0;
    const id = first ? c.requestId : `${c.requestId}_${n}`;
    await chargeBatch(core, c, id, model?.id ?? name, usage, costNano);
    core.record({
      id, at: c.startedAt, orgId: c.entry.key.orgId, workspaceId: c.entry.key.workspaceId, keyId: c.entry.key.id,
      provider: pass.provider, model: model?.id ?? name, endpoint: "batch_results", inputTokens: usage.input, outputTokens: usage.output,
      cacheWriteTokens: usage.cacheWrite, cacheReadTokens: usage.cacheRead, costNano, status: 200, errorCode: null, streamed: false, aborted: false,
      latencyMs: msSince(c.startedHr), ttfbMs: null,
    }, null, null, passDetail(c, 200, first));
  }
  return true;
}

/** A batch's cost on the spend limits and credits it ran under (logged, not thrown: the results were already sent). */
async function chargeBatch(core: GatewayCore, c: PassContext, requestId: string, model: string, usage: TokenUsage, costNano: number): Promise<void> {
  const { key, workspace } = c.entry;
  try {
    await core.admission.charge({
      requestId, at: c.startedAt, key, workspace, orgId: key.orgId, provider: c.route.pass.provider, model, op: "passthrough", dialect: c.route.dialect,
      inputTokenBound: usage.input + usage.cacheRead + usage.cacheWrite, outputTokenBound: usage.output, costBoundNano: costNano,
    }, costNano);
  } catch (err) {
    core.logger.warn({ err: (err as Error).message, requestId }, "a batch's cost could not be put on its limits");
  }
}

/** An Anthropic batch names its models: each must be one the key may use. An OpenAI batch file cannot be read here, so a key limited to some models may not upload one. */
function refuseBatchModels(core: GatewayCore, c: PassContext, body: Buffer): { code: "model_not_found" | "forbidden"; message: string } | null {
  const path = c.url.split("?")[0];
  if (c.req.method !== "POST") return null;
  if (path === "/v1/messages/batches") {
    let requests: { params?: { model?: unknown } }[] = [];
    try {
      requests = ((JSON.parse(body.toString("utf8")) as { requests?: typeof requests }).requests ?? []);
    } catch {
      return null; // the provider answers malformed JSON itself
    }
    for (const r of requests) {
      const name = String(r.params?.model ?? "");
      const model = core.catalog.resolve(name);
      if (!model || !allowsModel(c.entry, model)) return { code: "model_not_found", message: `The model '${name}' does not exist or you do not have access to it.` };
    }
  }
  if (path === "/v1/files" && (c.entry.key.allowedModels || c.entry.workspace.allowedModels)) {
    return { code: "forbidden", message: "This key is limited to some models, and a batch file's models cannot be checked: upload batch files with a key that may use every model." };
  }
  return null;
}

async function upstreamOf(core: GatewayCore, c: PassContext, pass: PassThrough): Promise<{ origin: string; path: string; auth: [string, string][] } | null> {
  if (c.entry.key.kind === "test") {
    const base = await core.simulatorUrl();
    return { origin: splitBaseUrl(base).origin, path: stripKeyParam(splitBaseUrl(base).prefix + c.url), auth: [["authorization", "Bearer latchkey-built-in"]] };
  }
  const all = await core.vault.forOrg(c.entry.key.orgId);
  const cred = stableCredential(all, pass.provider, c.entry.key.workspaceId);
  if (!cred) return null;
  const provider = getProvider(pass.provider)!;
  const { origin, prefix } = splitBaseUrl(cred.baseUrl ?? provider.defaultBaseUrl);
  const path = pass.provider === "openai" ? openaiPrefix(prefix) + c.url.slice(3) : prefix + c.url;
  const auth: [string, string][] = pass.provider === "openai" ? [["authorization", `Bearer ${cred.secret}`]]
    : pass.provider === "anthropic" ? [["x-api-key", cred.secret]] : [["x-goog-api-key", cred.secret]];
  return { origin, path: stripKeyParam(path), auth };
}

/** The workspace's own credential for the provider, else the organization's: the first by id, always the same one. */
function stableCredential(all: UsableCredential[], provider: string, workspaceId: string): UsableCredential | null {
  const own = all.filter((x) => x.provider === provider && x.workspaceId === workspaceId);
  const pool = own.length ? own : all.filter((x) => x.provider === provider && x.workspaceId === null);
  return pool.sort((a, b) => (a.id < b.id ? -1 : 1))[0] ?? null;
}

/** The caller's `?key=` is ours, never the provider's. */
function stripKeyParam(path: string): string {
  const q = path.indexOf("?");
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  params.delete("key");
  const rest = params.toString();
  return path.slice(0, q) + (rest ? `?${rest}` : "");
}

function gatewayBase(core: GatewayCore, req: IncomingMessage): string {
  return (core.config.publicUrl ?? `http://${req.headers.host ?? `${core.config.host}:${core.config.port}`}`).replace(/\/+$/, "");
}
