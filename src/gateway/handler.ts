import type { IncomingMessage, ServerResponse } from "node:http";
import { isDependencyFailure, type ErrorCode } from "../errors/index.js";
import type { VerifiedKey, VerifyResult } from "../keys/index.js";
import { clientAddress, MAX_GATEWAY_JSON_DEPTH, nestsDeeperThan, newId, tokenCostNano } from "../lib/index.js";
import {
  inputTokenBound, TranslationError, outputTokenBound, priceAt, type UpstreamRequest, type WireDialect,
} from "../providers/index.js";
import type { AdmissionDecision, AdmissionRequest } from "./admission.js";
import { readApiKey } from "./auth.js";
import { BodyTooLargeError, drainRequest, readBody } from "./body.js";
import type { GatewayCore } from "./core.js";
import { highestPrice, upstreams, type NoRoute } from "./deployments.js";
import { Exchange } from "./exchange.js";
import { NO_ENTRY } from "./journal.js";
import { allowsModel } from "./model-access.js";
import type { Candidate, Plan } from "./plan.js";
import { observeEarly, recordRefusal, refuse, refuseUnavailable, type HeldLimits, type KnownRequest } from "./refusal.js";
import { renderModels } from "./models-list.js";
import { UnpricedRules, unpricedMessage } from "./unpriced.js";
import { sendError, sendJson } from "./respond.js";
import { guessDialect, matchRoute, type Route } from "./routes.js";
import { forwardPassThrough } from "./passthrough.js";
import { RequestForms } from "./forms.js";
import type { PassThrough } from "./passthrough-routes.js";

/** The request path of DESIGN.md: authenticate, authorise, admit, then hand over to an Exchange. */
export async function handleRequest(core: GatewayCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedHr = performance.now();
  const startedAt = core.clock.now();
  const track: Track = { requestId: newId("req", startedAt), at: startedAt, hr: startedHr, known: null, held: null, exchange: null };
  try {
    await serve(core, req, res, track);
  } catch (err) {
    failed(core, req, res, track, err);
  }
}

async function serve(core: GatewayCore, req: IncomingMessage, res: ServerResponse, track: Track): Promise<void> {
  const { requestId, at: startedAt, hr: startedHr } = track;
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? null : new URLSearchParams(url.slice(q + 1));
  const anthropicHeaders = req.headers["anthropic-version"] !== undefined || req.headers["x-api-key"] !== undefined;
  if (req.method === "OPTIONS") {
    await core.cors.preflight(req, res);
    return;
  }
  const geminiCaller = req.headers["x-goog-api-key"] !== undefined || (query !== null && query.has("key"));
  const route = matchRoute(req.method ?? "GET", path, anthropicHeaders, geminiCaller);
  if (route === null || route === "method" || route === "malformed") {
    const dialect = guessDialect(path, anthropicHeaders, geminiCaller);
    const status = route === null
      ? sendError(res, dialect, "not_found", `No such endpoint: ${req.method} ${path}`, requestId)
      : route === "malformed" ? sendError(res, dialect, "invalid_request", "The path has a malformed percent-escape.", requestId)
        : sendError(res, dialect, "method_not_allowed", `${req.method} is not allowed on ${path}`, requestId);
    observeEarly(core, req, requestId, startedAt, startedHr, "unknown", status, route === null ? "not_found" : route === "malformed" ? "malformed_path" : "method_not_allowed");
    return;
  }
  const { dialect } = route;
  if (Number(req.headers["content-length"] ?? 0) > core.config.maxBodyBytes) {
    const status = await refuseTooLarge(core, req, res, dialect, requestId);
    observeEarly(core, req, requestId, startedAt, startedHr, route.op, status, "payload_too_large");
    return;
  }
  const reading = readApiKey(req, query?.get("key") ?? null);
  if ("problem" in reading) {
    const status = reading.problem === "conflict"
      ? sendError(res, dialect, "invalid_request", "The request carries more than one API key, and they differ; send exactly one.", requestId)
      : sendError(res, dialect, "unauthenticated", "No API key was provided. Send it in the x-api-key or Authorization: Bearer header.", requestId);
    observeEarly(core, req, requestId, startedAt, startedHr, route.op, status, reading.problem === "conflict" ? "conflicting_keys" : "no_key");
    return;
  }
  const ip = clientAddress(req, core.proxyTrust);
  // An address that keeps presenting unknown keys is refused before any verification, right keys
  // included, until its failures age out: guessing is slowed to the limit's pace.
  const wait = core.authFailures.blockedFor(ip, startedAt);
  if (wait > 0) {
    const status = sendError(res, dialect, "rate_limited", "Too many requests with invalid API keys from this address; try again later.", requestId, { retryAfterSeconds: wait });
    observeEarly(core, req, requestId, startedAt, startedHr, route.op, status, "auth_failures");
    return;
  }
  const verifying = core.verifier.verifyNow(reading.key, { surface: "gateway", scope: route.scope, ip, origin: req.headers.origin ?? null });
  const verdict = verifying instanceof Promise ? await verifying : verifying;
  if (!verdict.valid) {
    if (verdict.code === "MALFORMED" || verdict.code === "NOT_FOUND") core.authFailures.recordFailure(ip, startedAt);
    const status = refuseKey(res, dialect, verdict, requestId);
    observeEarly(core, req, requestId, startedAt, startedHr, route.op, status, `key_${verdict.code.toLowerCase()}`);
    return;
  }
  const entry = verdict.entry;
  const known: KnownRequest = { core, req, res, route, entry, requestId, at: startedAt, hr: startedHr, recorded: false };
  track.known = known;
  if (req.headers.origin !== undefined) core.cors.decorate(req, res, entry);
  if (route.op === "models") {
    answerModels(core, res, route, entry, requestId);
    return;
  }
  if (route.pass) {
    await forwardPassThrough(core, { req, res, route: route as Route & { pass: PassThrough }, entry, requestId, url, startedAt, startedHr });
    return;
  }
  let raw: Buffer;
  try {
    raw = await readBody(req, core.config.maxBodyBytes);
  } catch (err) {
    // Too large is refused as when content-length says so up front: answered and logged, but no
    // usage record (it never became a model call, whichever way its size was learnt).
    if (err instanceof BodyTooLargeError) {
      const status = await refuseTooLarge(core, req, res, dialect, requestId);
      observeEarly(core, req, requestId, startedAt, startedHr, route.op, status, "payload_too_large");
      return;
    }
    res.destroy();
    recordRefusal(known, { reason: "client_closed" }, 499);
    return;
  }
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new SyntaxError("not an object");
    body = parsed as Record<string, unknown>;
  } catch {
    refuse(known, { code: "invalid_request", message: "The request body is not valid JSON.", reason: "invalid_json" });
    return;
  }
  if (nestsDeeperThan(body, MAX_GATEWAY_JSON_DEPTH)) {
    refuse(known, { code: "invalid_request", message: `The request body nests deeper than ${MAX_GATEWAY_JSON_DEPTH} levels of arrays and objects.`, reason: "too_deep" });
    return;
  }
  // Moderations name their model optionally; OpenAI's default is the latest omni model.
  const modelName = route.pathModel ?? body.model ?? (route.op === "moderations" ? "omni-moderation-latest" : undefined);
  if (typeof modelName !== "string" || modelName === "") {
    refuse(known, { code: "invalid_request", message: "model: a model is required.", reason: "no_model", param: "model" });
    return;
  }
  let model = core.catalog.resolve(modelName);
  if (!model || !allowsModel(entry, model)) {
    refuse(known, { code: "model_not_found", message: `The model '${modelName}' does not exist or you do not have access to it.`, reason: "model_not_found", model: model?.id, provider: model?.provider, param: "model" });
    return;
  }
  if (model.match === "unpriced") {
    const rule = await core.unpriced.get(entry.key.orgId);
    if (rule.action === "refuse") {
      refuse(known, { code: "invalid_request", message: unpricedMessage(model), reason: "model_not_priced", model: model.id, provider: model.provider, param: "model", openaiCode: "model_not_priced" });
      return;
    }
    model = UnpricedRules.priced(model, rule);
  }
  const streamed = route.op === "stream_generate" || body.stream === true;
  const sse = route.op === "stream_generate" ? query?.get("alt") === "sse" : streamed;
  const toSimulator = entry.key.kind === "test";
  const providerId = toSimulator ? "simulator" : model.provider;
  const beta = req.headers["anthropic-beta"];
  const upstream: UpstreamRequest = { op: route.op, dialect, model: modelName, inboundPath: path, sse, body, beta: Array.isArray(beta) ? beta.join(",") : beta };
  // Forwarded with the include_usage chunk so a stream can be metered; stripped if not asked for.
  // Only the caller's own form: a translation reads the caller's options from the body as sent.
  let strip = false;
  let payload = raw;
  if ((route.op === "chat" || route.op === "completions") && streamed) {
    const opts = body.stream_options as Record<string, unknown> | undefined;
    if (opts?.include_usage !== true) {
      upstream.body = { ...body, stream_options: { ...opts, include_usage: true } };
      payload = Buffer.from(JSON.stringify(upstream.body));
      strip = true;
    }
  }
  // Each deployment takes the request in its own dialect (a test key takes the live route, same
  // codecs; only the transport is the simulator): the caller's bytes, or their translation.
  const forms = new RequestForms({ request: upstream, payload, translation: null, strip, notice: null }, body,
    { keep: core.reasoning, orgId: entry.key.orgId, model, modelName, streamed });

  let candidates: Candidate[] | NoRoute;
  try {
    const finding = upstreams(core, entry, model, toSimulator, forms);
    candidates = finding instanceof Promise ? await finding : finding;
  } catch (err) {
    if (err instanceof TranslationError) {
      refuse(known, { code: "invalid_request", message: err.message, reason: "untranslatable", model: model.id, provider: providerId, streamed, param: err.param });
      return;
    }
    if (!isDependencyFailure(err)) throw err;
    refuseUnavailable(known, err, { model: model.id, provider: providerId, streamed });
    return;
  }
  if (candidates === "no_credential") {
    refuse(known, { code: "invalid_request", message: `No ${model.provider} credential (nor one that declares '${model.id}') is configured for this workspace; add one with 'latchkey credentials add --provider ${model.provider}'.`, reason: "no_credential", model: model.id, provider: providerId, streamed });
    return;
  }
  if (!Array.isArray(candidates)) {
    const by = candidates.mismatch;
    refuse(known, { code: "invalid_request", message: `The model '${modelName}' is served by ${by.join(" and ")}, which ${by.length > 1 ? "do" : "does"} not speak this endpoint's API; call it through its own endpoint.`, reason: "dialect_mismatch", model: model.id, provider: model.provider, streamed, param: "model" });
    return;
  }
  const notice = candidates[0]!.notice;

  const bounding = inputTokenBound(body, raw.length, model.contextWindow);
  if (typeof bounding !== "number") {
    refuse(known, { code: "invalid_request", message: `${bounding.unbounded}.`, reason: "unbounded_input", model: model.id, provider: providerId, streamed });
    return;
  }
  const inBound = bounding;
  const price = highestPrice(priceAt(model, startedAt), candidates);
  const outBound = outputTokenBound(route.op, body, model.maxOutputTokens);
  const admission: AdmissionRequest = {
    requestId, at: startedAt, key: entry.key, workspace: entry.workspace, orgId: entry.key.orgId, provider: providerId, model: model.id, op: route.op, dialect,
    inputTokenBound: inBound, outputTokenBound: outBound,
    costBoundNano: tokenCostNano(inBound, Math.max(price.input, price.cacheWrite)) + tokenCostNano(outBound, price.output),
  };
  let decision: AdmissionDecision;
  try {
    const admitting = core.admission.admit(admission);
    decision = admitting instanceof Promise ? await admitting : admitting;
  } catch (err) {
    if (!isDependencyFailure(err)) throw err;
    refuseUnavailable(known, err, { model: model.id, provider: providerId, streamed });
    return;
  }
  if (!decision.allowed) {
    refuse(known, { code: decision.code, message: decision.message, reason: decision.code, model: model.id, provider: providerId, streamed, retryAfterSeconds: decision.retryAfterSeconds, headers: decision.headers, limit: decision.limit });
    return;
  }
  const { ticket, headers } = decision;
  const held: Held = { admission, ticket, fairSlot: null, model: model.id, provider: providerId, streamed };
  track.held = held;

  // A fair share of the upstream's pool: past its share, a key waits for one of its own requests to end.
  const fairSlot = `${candidates[0]!.target!.origin} ${entry.key.id}`;
  const gate = core.fairShare.acquire(fairSlot);
  if (gate !== true && !(await gate)) {
    const zero = { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 0, status: 429, aborted: false };
    track.held = null; // settled here; should the settle throw, the failure is recorded without it
    await core.admission.settle(admission, ticket, zero);
    const share = core.config.upstreamKeyShare;
    refuse(known, { code: "rate_limited", message: `This key already has ${share} requests in flight to this provider and none ended within ${core.config.upstreamQueueTimeoutMs} ms; retry shortly.`, reason: "upstream_share", model: model.id, provider: providerId, streamed, retryAfterSeconds: 1 });
    return;
  }
  held.fairSlot = fairSlot;
  const plan: Plan = {
    requestId, dialect, op: route.op, startedAt, startedHr, streamed, sse,
    orgId: entry.key.orgId, workspaceId: entry.key.workspaceId, keyId: entry.key.id, keyName: entry.key.name, model, modelName, provider: providerId,
    inputTokenBound: inBound, admission, ticket, headers: notice ? { ...headers, "latchkey-notice": notice } : headers, fairSlot, notice, journal: NO_ENTRY,
  };
  const exchange = new Exchange(core, req, res, plan, forms, candidates);
  track.exchange = exchange;
  if (res.destroyed) {
    exchange.clientClosed();
    return;
  }
  // The reservation is journaled before the request leaves: the exchange dispatches once it is written.
  plan.journal = core.recorder.journal.reserve({
    id: requestId, at: startedAt, orgId: entry.key.orgId, workspaceId: entry.key.workspaceId, keyId: entry.key.id, provider: providerId, model: model.id,
    endpoint: route.op, streamed, amountNano: admission.costBoundNano,
  }, exchange);
}

/** What an admitted request holds until an Exchange takes it over: released by a failure in between. */
interface Held extends HeldLimits {
  model: string;
  provider: string;
  streamed: boolean;
}

/** How far one request got, for `failed`: its id from the start, then its key, what it holds, its Exchange. */
interface Track {
  requestId: string;
  at: number;
  hr: number;
  known: KnownRequest | null;
  held: Held | null;
  exchange: Exchange | null;
}

/**
 * The gateway itself failed on a request (a throw anywhere on its path): answered with the
 * request's own id (the one its header, log line and usage record carry), in the caller's format
 * (503 when a dependency failed, else 500; a cut connection once the answer has started). Once
 * the key is known it gets exactly one usage record with the error code, like every request;
 * what it was admitted with (limits, its concurrency slot, its share of the upstream pool) is
 * released with it, so no failure leaks a slot until its lease runs out.
 */
function failed(core: GatewayCore, req: IncomingMessage, res: ServerResponse, t: Track, err: unknown): void {
  const code: ErrorCode = isDependencyFailure(err) ? "store_unavailable" : "internal";
  core.logger.error({ err, requestId: t.requestId, path: (req.url ?? "").split("?")[0] }, "gateway request failed");
  const message = code === "store_unavailable" ? "A service the gateway depends on is unavailable; try again shortly." : "The gateway failed to handle the request.";
  if (t.exchange) {
    t.exchange.failed(code, message);
    return;
  }
  const k = t.known;
  if (k && !k.recorded) {
    const h = t.held;
    refuse(k, { code, message, reason: code, model: h?.model, provider: h?.provider, streamed: h?.streamed }, h);
    if (res.headersSent && !res.writableEnded) res.destroy();
    return;
  }
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const path = req.url ?? "/";
  const status = sendError(res, guessDialect(path, req.headers["anthropic-version"] !== undefined || req.headers["x-api-key"] !== undefined), code, message, t.requestId);
  if (!k) observeEarly(core, req, t.requestId, t.at, t.hr, "unknown", status, code);
}

function answerModels(core: GatewayCore, res: ServerResponse, route: Route, entry: VerifiedKey, requestId: string): void {
  const allowed = core.catalog.list().filter((m) => allowsModel(entry, m));
  const one = route.pathModel ? core.catalog.resolve(route.pathModel) : null;
  const visible = one && allowed.includes(one) ? one : null;
  const payload = renderModels(route.dialect, allowed, visible, route.pathModel !== null);
  if (payload === null) sendError(res, route.dialect, "model_not_found", `The model '${route.pathModel}' does not exist or you do not have access to it.`, requestId);
  else sendJson(res, route.dialect, requestId, payload);
}

const KEY_REFUSALS: Record<Exclude<VerifyResult["code"], "VALID">, ErrorCode> = {
  MALFORMED: "unauthenticated", NOT_FOUND: "unauthenticated", DISABLED: "unauthenticated", REVOKED: "unauthenticated", EXPIRED: "unauthenticated",
  FORBIDDEN_IP: "forbidden", FORBIDDEN_ORIGIN: "forbidden", FORBIDDEN_SCOPE: "forbidden", FORBIDDEN_MODEL: "model_not_found",
};

/** 413 once the rest of the body is in (up to as much again, or 10 s), then the connection closes. */
async function refuseTooLarge(core: GatewayCore, req: IncomingMessage, res: ServerResponse, dialect: WireDialect, requestId: string): Promise<number> {
  await drainRequest(req, core.config.maxBodyBytes, 10_000);
  return sendError(res, dialect, "payload_too_large", `The request body exceeds ${core.config.maxBodyBytes} bytes.`, requestId, { headers: { connection: "close" } });
}

function refuseKey(res: ServerResponse, dialect: WireDialect, v: Extract<VerifyResult, { valid: false }>, requestId: string): number {
  const message = v.code === "MALFORMED" || v.code === "NOT_FOUND" ? "Invalid API key." : v.message;
  return sendError(res, dialect, KEY_REFUSALS[v.code], message, requestId);
}
