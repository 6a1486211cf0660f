import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher, Pool } from "undici";
import { priceAt, usageCostNano, UsageMeter, type Operation, type TokenUsage, type UpstreamTarget, type WireDialect } from "../providers/index.js";
import type { CatalogModel } from "../store/index.js";
import type { AdmissionRequest } from "./admission.js";
import type { GatewayCore } from "./core.js";
import { requestIdHeader, sendError } from "./respond.js";
import { Translator, type Translation } from "./translator.js";
import { clientResponseHeaders, translatedRequestHeaders, upstreamRequestHeaders } from "./upstream-headers.js";
import { traceHeader } from "./trace-header.js";

/** One upstream to try: where, with which credential. */
export interface Candidate {
  target: UpstreamTarget;
  pool: Pool;
  credentialId: string;
}

/** Everything decided about a request before it is forwarded (plain data). */
export interface Plan {
  requestId: string;
  dialect: WireDialect;
  op: Operation;
  startedAt: number;
  startedHr: number;
  streamed: boolean;
  /** Gemini's JSON-array stream is metered like a JSON body (its tail), not as SSE. */
  sse: boolean;
  /** Remove the usage chunk injected with stream_options.include_usage. */
  strip: boolean;
  orgId: string;
  workspaceId: string;
  keyId: string;
  keyName: string;
  model: CatalogModel;
  /** The model as the caller named it (translated answers carry it). */
  modelName: string;
  provider: string;
  /** Set when the caller's dialect differs from the provider's; null on the pass-through path. */
  translation: Translation | null;
  inputTokenBound: number;
  admission: AdmissionRequest | null;
  ticket: unknown;
  /** The key's slot in the first upstream's fair share ("origin key"), released when the request is recorded. */
  fairSlot: string | null;
  /** Headers of ours for the answer (rate limits), whatever it turns out to be. */
  headers: Record<string, string> | undefined;
}

const WAITING = 0;
const DISCARDING = 1;
const STREAMING = 2;
const DONE = 3;

const EXCHANGE = Symbol("latchkey.exchange");
type Tagged = ServerResponse & { [EXCHANGE]?: Exchange };

function onClientClose(this: Tagged): void {
  this[EXCHANGE]?.clientClosed();
}
function onClientDrain(this: Tagged): void {
  this[EXCHANGE]?.resume();
}
function retryLater(x: Exchange): void {
  x.dispatch();
}

/**
 * Forwards one request and pumps the answer back: retries before the first byte, back-pressure
 * through the dispatch controller, usage read from the bytes as they pass, one usage event at the
 * end. The object itself is undici's dispatch handler, so no closure is made per request.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private state = WAITING;
  private attempt = 0;
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private ttfbMs: number | null = null;
  private meter: UsageMeter | null = null;
  private retryAfterMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private upstreamFailed: string | null = null;
  private translator: Translator | null = null;
  /** The last status an upstream answered with, retried or not (for the access log). */
  private upstreamStatus: number | null = null;
  private headers: Record<string, string>;
  /** The caller-header allow-list `headers` was built with (a fallback to another provider rebuilds it). */
  private headerList: readonly string[] | null;

  constructor(
    private readonly core: GatewayCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly plan: Plan,
    private readonly body: Buffer,
    private readonly candidates: Candidate[],
  ) {
    this.headerList = plan.translation ? null : candidates[0]!.target.clientHeaders;
    this.headers = this.headerList === null ? translatedRequestHeaders(plan.translation!.upstream === "anthropic", body.length) : upstreamRequestHeaders(req.headers, this.headerList, body.length);
    (res as Tagged)[EXCHANGE] = this;
    // \`on\`, not \`once\`: close is emitted once, and once would wrap the listener on every request.
    res.on("close", onClientClose);
  }

  dispatch(): void {
    this.timer = null;
    if (this.state === DONE) return;
    const c = this.candidates[this.attempt % this.candidates.length]!;
    this.state = WAITING;
    if (this.headerList !== null && this.headerList !== c.target.clientHeaders) {
      // Another provider: its own caller headers, and no auth header left from the previous one.
      this.headerList = c.target.clientHeaders;
      this.headers = upstreamRequestHeaders(this.req.headers, this.headerList, this.body.length);
    }
    for (const [name, value] of c.target.auth) this.headers[name] = value;
    const t = this.core.timeouts;
    c.pool.dispatch({ path: c.target.path, method: "POST", headers: this.headers, body: this.body, headersTimeout: t.firstByteMs, bodyTimeout: t.idleMs, blocking: true }, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.state === DONE) controller.abort(new Error("client closed"));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200 || this.state === DONE) return;
    this.upstreamStatus = status;
    if (isRetryable(status)) {
      const retrying = this.attempt + 1 < this.core.timeouts.maxAttempts && retryAfterMs(headers) <= this.core.timeouts.maxRetryAfterMs;
      this.attemptFailed(status === 429 || status === 529 ? `status_${status}` : "status_5xx", retrying);
      if (retrying) {
        this.state = DISCARDING;
        this.retryAfterMs = retryAfterMs(headers);
        return;
      }
    }
    this.state = STREAMING;
    this.status = status;
    const p = this.plan;
    const contentType = String(headers["content-type"] ?? "");
    const sse = contentType.includes("event-stream");
    const strip = p.strip && sse;
    this.meter = status < 300 ? new UsageMeter(this.candidates[this.attempt % this.candidates.length]!.target.dialect, sse, strip) : null;
    if (p.translation) {
      this.translator = new Translator(p, p.translation, status, sse);
      this.translator.start(this.res);
      return;
    }
    // Headers go out with the first body bytes: one write instead of two on the common path.
    this.res.writeHead(status, clientResponseHeaders(headers, requestIdHeader(p.dialect), p.requestId, !strip, p.headers));
    void controller;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state !== STREAMING) return;
    if (this.ttfbMs === null) this.ttfbMs = msSince(this.plan.startedHr);
    const metered = this.meter ? this.meter.push(chunk) : chunk;
    const out = this.translator ? this.translator.push(metered) : metered;
    if (out.length > 0 && !this.res.write(out) && !controller.paused) {
      controller.pause();
      this.res.once("drain", onClientDrain);
    }
  }

  onResponseEnd(): void {
    if (this.state === DISCARDING) {
      this.retry();
      return;
    }
    if (this.state !== STREAMING) return;
    if (this.translator) {
      this.status = this.translator.finish(this.res);
      this.finish(false);
      return;
    }
    const rest = this.meter?.flushCarry();
    if (rest && rest.length) this.res.write(rest);
    this.res.end();
    this.finish(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.state === DONE) return;
    const code = (err as { code?: string }).code ?? "";
    if (this.state === WAITING || this.state === DISCARDING) {
      const retrying = this.attempt + 1 < this.core.timeouts.maxAttempts;
      const timeout = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
      // A discarded retryable answer that then fails to drain was counted once already.
      if (this.state === WAITING) this.attemptFailed(timeout ? "timeout" : code === "ECONNREFUSED" ? "connect" : "reset", retrying);
      if (retrying) {
        this.retry();
        return;
      }
      this.status = sendError(this.res, this.plan.dialect, timeout ? "upstream_timeout" : "upstream_error",
        timeout ? "The provider did not answer in time." : "The provider could not be reached.", this.plan.requestId, { headers: this.plan.headers });
      this.upstreamFailed = code || "upstream_error";
      this.finish(false);
      return;
    }
    // Bytes were sent: the stream cannot be retried. Tell an Anthropic stream in its own terms;
    // otherwise drop the connection so the client sees the answer was cut. Recorded as the 502 it
    // amounts to (the client got no whole answer), so reports count it among errors, not as a 200.
    this.upstreamFailed = code || "upstream_died";
    this.status = 502;
    this.attemptFailed("stream_cut", false);
    if (this.translator) this.translator.abort(this.res);
    else if (this.plan.dialect === "anthropic" && this.plan.sse && this.plan.streamed && !this.res.destroyed) {
      const rest = this.meter?.flushCarry();
      if (rest && rest.length) this.res.write(rest);
      this.res.end(`event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The provider's stream ended unexpectedly."},"request_id":"${this.plan.requestId}"}\n\n`);
    } else {
      this.res.destroy();
    }
    this.finish(true);
  }

  resume(): void {
    if (this.controller?.paused) this.controller.resume();
  }

  /** The client went away: stop the upstream, keep what was used. */
  clientClosed(): void {
    if (this.state === DONE) return;
    if (this.timer) clearTimeout(this.timer);
    const wasStreaming = this.state === STREAMING;
    this.state = DONE;
    this.controller?.abort(new Error("client closed"));
    if (!wasStreaming && this.status === 0) this.status = 499;
    this.settle(true);
  }

  private attemptFailed(cls: string, retried: boolean): void {
    const c = this.candidates[this.attempt % this.candidates.length]!;
    this.core.observer.attemptFailed(this.plan.provider, c.credentialId, cls, retried);
  }

  private retry(): void {
    this.attempt++;
    this.state = WAITING;
    // Another credential goes at once (a little jitter); the same one again waits with backoff.
    const sameCredential = this.candidates.length <= this.attempt;
    const backoff = sameCredential ? Math.min(2000, 100 * 2 ** (this.attempt - 1)) * (0.5 + Math.random() * 0.5) : Math.random() * 20;
    const wait = Math.max(backoff, this.retryAfterMs);
    this.retryAfterMs = 0;
    this.timer = setTimeout(retryLater, wait, this);
  }

  private finish(aborted: boolean): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.settle(aborted);
  }

  private settle(aborted: boolean): void {
    const p = this.plan;
    (this.res as Tagged)[EXCHANGE] = undefined;
    this.res.removeListener("drain", onClientDrain);
    const usage = this.usage(aborted);
    const costNano = usageCostNano(usage, priceAt(p.model, p.startedAt));
    const status = this.status || 499;
    this.core.record({
      id: p.requestId, at: p.startedAt, orgId: p.orgId, workspaceId: p.workspaceId, keyId: p.keyId, provider: p.provider, model: p.model.id,
      endpoint: p.op, inputTokens: usage.input, outputTokens: usage.output, cacheWriteTokens: usage.cacheWrite, cacheReadTokens: usage.cacheRead,
      costNano, status, errorCode: this.upstreamFailed ?? (aborted ? "client_closed" : status >= 400 ? "upstream_status" : null),
      streamed: p.streamed, aborted, latencyMs: msSince(p.startedHr), ttfbMs: this.ttfbMs,
    }, p, { inputTokens: usage.input, outputTokens: usage.output, cacheWriteTokens: usage.cacheWrite, cacheReadTokens: usage.cacheRead, costNano, status, aborted }, {
      keyName: p.keyName, upstreamStatus: this.upstreamStatus, attempts: this.attempt + 1,
      deployment: this.candidates[this.attempt % this.candidates.length]!.credentialId, refusal: null,
      traceparent: traceHeader(this.req.headers.traceparent), tracestate: traceHeader(this.req.headers.tracestate),
    });
  }

  /** What the response reported; for a cut stream that never reported, an estimate from what passed. */
  private usage(aborted: boolean): TokenUsage {
    if (!this.meter) return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    const r = this.meter.read();
    if (!aborted && !this.upstreamFailed) {
      // Gemini's embeddings reported no usage before its newest API versions: they are billed on
      // an estimate of the input (four bytes a token) rather than not at all.
      if (!r.reported && (this.plan.op === "embed_content" || this.plan.op === "batch_embed_contents") && this.status < 300) {
        return { input: Math.ceil(this.plan.inputTokenBound / 4), output: 0, cacheWrite: 0, cacheRead: 0 };
      }
      return r.usage;
    }
    const u = r.usage;
    return {
      input: r.reported ? u.input : Math.ceil(this.plan.inputTokenBound / 4),
      output: Math.max(u.output, r.deltas),
      cacheWrite: u.cacheWrite,
      cacheRead: u.cacheRead,
    };
  }
}

function isRetryable(status: number): boolean {
  return status === 429 || status === 529 || (status >= 500 && status !== 501);
}

function retryAfterMs(headers: IncomingHttpHeaders): number {
  const ms = Number(headers["retry-after-ms"]);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const v = headers["retry-after"];
  if (typeof v !== "string") return 0;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 0;
}

export function msSince(hr: number): number {
  return Math.round(performance.now() - hr);
}
