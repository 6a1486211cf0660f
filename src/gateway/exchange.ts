import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import {
  priceAt, reframerFor, TranslationError, usageCostNano, UsageMeter, type Reframer, type TokenUsage,
} from "../providers/index.js";
import { prepare } from "./deployments.js";
import type { RequestForms } from "./forms.js";
import type { GatewayCore } from "./core.js";
import { msSince, type Candidate, type Plan } from "./plan.js";
import type { ErrorCode } from "../errors/index.js";
import { errorReply, requestIdHeader, sendReply } from "./respond.js";
import { traceHeader } from "./trace-header.js";
import { upstreamTrace, type UpstreamTrace } from "../telemetry/index.js";
import { Translator } from "./translator.js";
import type { JournalWaiter } from "./journal.js";
import { clientResponseHeaders, translatedRequestHeaders, upstreamRequestHeaders } from "./upstream-headers.js";

const WAITING = 0;
const DISCARDING = 1;
const STREAMING = 2;
const DONE = 3;
/** An upstream error in a shape the caller does not speak: collected, then answered in the caller's. */
const COLLECTING = 4;
const MAX_ERROR_BODY = 64 * 1024;

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
function signFailed(this: Exchange, err: unknown): void {
  this.onResponseError(null as unknown as Dispatcher.DispatchController, err as Error);
}
function preparedLater(x: Exchange): void {
  x.dispatch();
}
function prepareFailed(this: Exchange, err: unknown): void {
  this.preparationFailed(err);
}

/** The caller headers sent with a translated request (Anthropic's want its version header). */
const TRANSLATED_TO_ANTHROPIC = ["translated", "anthropic"] as const;
const TRANSLATED = ["translated"] as const;

/**
 * Forwards one request and pumps the answer back: retries before the first byte, back-pressure
 * through the dispatch controller, usage read from the bytes as they pass, one usage event at the
 * end. The object itself is undici's dispatch handler, so no closure is made per request.
 */
export class Exchange implements Dispatcher.DispatchHandler, JournalWaiter {
  private state = WAITING;
  /** The answer is complete and recorded: it ends once its usage is journaled. */
  private endWhenJournaled = false;
  private attempt = 0;
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private ttfbMs: number | null = null;
  private meter: UsageMeter | null = null;
  private retryAfterMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private upstreamFailed: string | null = null;
  /** Names of the headers the last attempt's auth or signature added (removed before the next). */
  private added: string[] = [];
  private reframer: Reframer | null = null;
  private errorBody: Buffer[] | null = null;
  /** The headers of an upstream error answer being collected. */
  private upstreamHeaders: IncomingHttpHeaders | null = null;
  private served: Candidate | null = null;
  private translator: Translator | null = null;
  /** The last status an upstream answered with, retried or not (for the access log). */
  private upstreamStatus: number | null = null;
  private headers: Record<string, string>;
  /**
   * What `headers` was built for: the caller-header allow-list of a pass-through target, or one of
   * the translated kinds (a fallback to another provider or dialect rebuilds them).
   */
  private headerSource: readonly string[];
  /** With tracing on: the gateway span's ids, named as the parent in every upstream attempt's traceparent. */
  private readonly trace: UpstreamTrace | null;

  constructor(
    private readonly core: GatewayCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly plan: Plan,
    private readonly forms: RequestForms,
    private readonly candidates: Candidate[],
  ) {
    const first = candidates[0]!;
    this.headerSource = headerSourceOf(first);
    this.headers = this.headersFor(first);
    this.trace = core.observer.tracer ? upstreamTrace(traceHeader(req.headers.traceparent)) : null;
    (res as Tagged)[EXCHANGE] = this;
    // \`on\`, not \`once\`: close is emitted once, and once would wrap the listener on every request.
    res.on("close", onClientClose);
  }

  /**
   * The journal has this request's line on disk: its reservation (the upstream call may leave) or,
   * once the answer is complete, its usage event (the answer may end).
   */
  journaled(): void {
    try {
      if (this.state !== DONE) this.dispatch();
      else if (this.endWhenJournaled) {
        try {
          this.res.end();
        } finally {
          this.res.uncork();
        }
      }
    } catch (err) {
      // Called from the journal's commit, outside the handler's own catch: answered as it would.
      this.core.logger.error({ err, requestId: this.plan.requestId }, "gateway request failed");
      this.failed("internal", "The gateway failed to handle the request.");
    }
  }

  dispatch(): void {
    this.timer = null;
    if (this.state === DONE) return;
    const c = this.current();
    this.state = WAITING;
    if (c.later) {
      // A fallback of another dialect: the request is translated for it now that its turn has come.
      let preparing: void | Promise<void>;
      try {
        preparing = prepare(this.core, c, this.forms);
      } catch (err) {
        this.preparationFailed(err);
        return;
      }
      if (preparing) {
        preparing.then(() => preparedLater(this), prepareFailed.bind(this));
        return;
      }
    }
    const target = c.target!;
    const source = headerSourceOf(c);
    if (source !== this.headerSource) {
      // Another provider or dialect: its own caller headers, and no auth header left from the previous one.
      this.headerSource = source;
      this.headers = this.headersFor(c);
      this.added.length = 0;
    }
    const h = this.headers;
    for (const name of this.added) delete h[name];
    this.added.length = 0;
    if (this.trace) {
      h.traceparent = this.trace.traceparent;
      const state = traceHeader(this.req.headers.tracestate);
      if (state !== undefined) h.tracestate = state;
    }
    for (const [name, value] of target.auth) {
      h[name] = value;
      this.added.push(name);
    }
    const body = target.body ?? c.payload;
    h["content-length"] = String(body.length);
    if (target.signer) {
      const before = Object.keys(h);
      target.signer.sign(target.origin, target.path, h, body).then(() => {
        for (const name in h) if (!before.includes(name)) this.added.push(name);
        this.send(c, body);
      }, signFailed.bind(this));
      return;
    }
    this.send(c, body);
  }

  private send(c: Candidate, body: Buffer): void {
    if (this.state === DONE) return;
    const t = this.core.timeouts;
    c.pool!.dispatch({ path: c.target!.path, method: "POST", headers: this.headers, body, headersTimeout: t.firstByteMs, bodyTimeout: t.idleMs, blocking: true }, this);
  }

  private current(): Candidate {
    return this.candidates[this.attempt % this.candidates.length]!;
  }

  private headersFor(c: Candidate): Record<string, string> {
    const length = (c.target!.body ?? c.payload).length;
    return c.translation ? translatedRequestHeaders(c.translation.upstream === "anthropic", length) : upstreamRequestHeaders(this.req.headers, c.target!.clientHeaders, length);
  }

  /**
   * A fallback's API cannot take the request (a parameter it cannot honour): the next deployment
   * is tried; with none left, the caller is told which parameter, as when no deployment could.
   */
  preparationFailed(err: unknown): void {
    if (this.state === DONE) return;
    if (!(err instanceof TranslationError)) {
      this.core.logger.error({ err, requestId: this.plan.requestId }, "gateway request failed");
      this.failed("internal", "The gateway failed to handle the request.");
      return;
    }
    const retrying = this.attempt + 1 < this.core.timeouts.maxAttempts;
    this.attemptFailed("untranslatable", retrying);
    if (retrying) {
      this.retry();
      return;
    }
    const reply = errorReply(this.plan.dialect, "invalid_request", err.message, this.plan.requestId, { headers: this.plan.headers, param: err.param });
    this.status = reply.status;
    this.upstreamFailed = "untranslatable";
    this.finish(false);
    sendReply(this.res, reply);
  }

  /**
   * The answering deployment's notice, in place of the first one's: a fallback of another dialect
   * has its own translation, which may have changed something the first did not, or nothing.
   */
  private noticeOf(c: Candidate): void {
    const p = this.plan;
    const headers = { ...p.headers };
    if (c.notice) headers["latchkey-notice"] = c.notice;
    else delete headers["latchkey-notice"];
    p.headers = headers;
    p.notice = c.notice;
  }

  /** True when the next attempt goes to another deployment (no need to wait for this one). */
  private nextIsAnother(): boolean {
    const n = this.candidates.length;
    return n > 1 && this.candidates[(this.attempt + 1) % n] !== this.current();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.state === DONE) controller.abort(new Error("client closed"));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200 || this.state === DONE) return;
    const c = this.current();
    this.upstreamStatus = status;
    if (isRetryable(status)) {
      const after = retryAfterMs(headers);
      if (c.healthKey) this.core.health.failed(c.healthKey, after);
      const retrying = this.attempt + 1 < this.core.timeouts.maxAttempts && (after <= this.core.timeouts.maxRetryAfterMs || this.nextIsAnother());
      this.attemptFailed(status === 429 || status === 529 ? `status_${status}` : "status_5xx", retrying);
      if (retrying) {
        this.state = DISCARDING;
        this.retryAfterMs = after;
        return;
      }
    } else if (status < 300 && c.healthKey) {
      this.core.health.succeeded(c.healthKey);
    }
    if ((status === 401 || status === 403) && c.link?.refresh) c.link.refresh();
    this.served = c;
    if (c.notice !== this.plan.notice) this.noticeOf(c);
    this.status = status;
    // An error in a shape the caller does not speak is rewritten in its own, and so is a refused
    // credential; an Anthropic error body names a request id, which becomes ours (the provider's
    // stays in its header).
    if (status >= 400 && (c.target!.errors || credentialRefused(status) || (this.plan.dialect === "anthropic" && !c.translation))) {
      this.state = COLLECTING;
      this.errorBody = [];
      this.upstreamHeaders = headers;
      return;
    }
    this.state = STREAMING;
    const p = this.plan;
    let upstreamHeaders = headers;
    if (c.target!.framing && status < 300) {
      this.reframer = reframerFor(c.target!.framing, p.modelName, p.requestId);
      upstreamHeaders = { ...headers, "content-type": this.reframer.contentType };
      delete upstreamHeaders["content-length"];
    }
    const contentType = String(upstreamHeaders["content-type"] ?? "");
    const sse = contentType.includes("event-stream");
    const strip = c.strip && sse;
    this.meter = status < 300 ? new UsageMeter(c.target!.dialect, sse, strip) : null;
    if (c.translation) {
      this.translator = new Translator(p, c.translation, status, sse, this.core.reasoning);
      this.translator.start(this.res);
      return;
    }
    // Headers go out with the first body bytes: one write instead of two on the common path.
    this.res.writeHead(status, clientResponseHeaders(upstreamHeaders, requestIdHeader(p.dialect), p.requestId, !strip && !this.reframer, p.headers));
    void controller;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // The answering upstream's first byte, relayed as it comes or collected (an error body); a
    // discarded attempt's bytes do not count.
    if (this.ttfbMs === null && (this.state === STREAMING || this.state === COLLECTING)) this.ttfbMs = msSince(this.plan.startedHr);
    if (this.state === COLLECTING) {
      if (this.errorBody!.reduce((n, b) => n + b.length, 0) < MAX_ERROR_BODY) this.errorBody!.push(chunk);
      return;
    }
    if (this.state !== STREAMING) return;
    const bytes = this.reframer ? this.reframer.push(chunk) : chunk;
    if (bytes.length === 0) return;
    const metered = this.meter ? this.meter.push(bytes) : bytes;
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
    if (this.state === COLLECTING) {
      this.answerUpstreamError();
      return;
    }
    if (this.state !== STREAMING) return;
    if (this.reframer) {
      const tail = this.reframer.end();
      const metered = tail.length && this.meter ? this.meter.push(tail) : tail;
      const out = metered.length && this.translator ? this.translator.push(metered) : metered;
      if (out.length) this.res.write(out);
      if (this.reframer.failed) this.upstreamFailed = this.plan.streamed ? "bad_event_stream" : "bad_upstream_body";
    }
    if (this.translator) {
      this.translator.finish(this.res, this);
      return;
    }
    const rest = this.meter?.flushCarry();
    if (rest && rest.length) this.res.write(rest);
    // Recorded (journaled) before the last byte: a client that saw the end has a record after any
    // crash. The journal line goes out with the others of this turn; the answer ends after it. The
    // socket is corked until then: the bytes written above (with a content-length, the last ones)
    // wait for the line too, and leave with the end (a chunked answer's terminator) in one write.
    this.endWhenJournaled = true;
    this.res.cork();
    this.finish(false, this);
  }

  /** The translator's answer is complete but for its last bytes: recorded now, with the status it sends. */
  ending(status: number): void {
    this.status = status;
    this.finish(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.state === DONE) return;
    const code = (err as { code?: string }).code ?? "";
    if (this.state === COLLECTING) {
      this.answerUpstreamError();
      return;
    }
    if (this.state === WAITING) {
      const key = this.current().healthKey;
      if (key) this.core.health.failed(key);
    }
    if (this.state === WAITING || this.state === DISCARDING) {
      const retrying = this.attempt + 1 < this.core.timeouts.maxAttempts;
      const timeout = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
      // A discarded retryable answer that then fails to drain was counted once already.
      if (this.state === WAITING) this.attemptFailed(timeout ? "timeout" : code === "ECONNREFUSED" || code === "LATCHKEY_ADDRESS_REFUSED" ? "connect" : "reset", retrying);
      if (retrying) {
        this.retry();
        return;
      }
      const reply = errorReply(this.plan.dialect, timeout ? "upstream_timeout" : "upstream_error",
        timeout ? "The provider did not answer in time." : "The provider could not be reached.", this.plan.requestId, { headers: this.plan.headers });
      this.status = reply.status;
      this.upstreamFailed = code || "upstream_error";
      this.finish(false);
      sendReply(this.res, reply);
      return;
    }
    // Bytes were sent: the stream cannot be retried. Tell an Anthropic stream in its own terms;
    // otherwise drop the connection so the client sees the answer was cut. Recorded as the 502 it
    // amounts to (the client got no whole answer), so reports count it among errors, not as a 200.
    this.upstreamFailed = code || "upstream_died";
    this.status = 502;
    this.attemptFailed("stream_cut", false);
    this.finish(true);
    if (this.translator) this.translator.abort(this.res);
    else if (this.plan.dialect === "anthropic" && this.plan.sse && this.plan.streamed && !this.res.destroyed) {
      const rest = this.meter?.flushCarry();
      if (rest && rest.length) this.res.write(rest);
      this.res.end(`event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The provider's stream ended unexpectedly."},"request_id":"${this.plan.requestId}"}\n\n`);
    } else {
      this.res.destroy();
    }
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

  /**
   * The gateway failed while this exchange was starting (a throw on the request path): the
   * upstream is stopped, the request recorded once with `code` and answered in the caller's format,
   * or cut when its answer has begun. Nothing when it has finished already.
   */
  failed(code: ErrorCode, message: string): void {
    if (this.state === DONE) {
      if (!this.res.writableEnded) this.res.destroy();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort(new Error("gateway failure"));
    const reply = errorReply(this.plan.dialect, code, message, this.plan.requestId, { headers: this.plan.headers });
    const begun = this.res.headersSent;
    this.status = begun ? 502 : reply.status;
    this.upstreamFailed = code;
    this.finish(begun);
    if (begun) this.res.destroy();
    else sendReply(this.res, reply);
  }

  private attemptFailed(cls: string, retried: boolean): void {
    const c = this.current();
    this.core.observer.attemptFailed(c.provider, c.credentialId, cls, retried);
  }

  private retry(): void {
    // Another deployment goes at once (a little jitter; the failed one rests for its retry-after);
    // the same one again waits with backoff, and at least its retry-after.
    const another = this.nextIsAnother();
    this.attempt++;
    this.state = WAITING;
    const backoff = another ? Math.random() * 20 : Math.min(2000, 100 * 2 ** (this.attempt - 1)) * (0.5 + Math.random() * 0.5);
    const wait = another ? backoff : Math.max(backoff, this.retryAfterMs);
    this.retryAfterMs = 0;
    this.timer = setTimeout(retryLater, wait, this);
  }

  private finish(aborted: boolean, waiter?: JournalWaiter): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.settle(aborted, waiter);
  }

  private settle(aborted: boolean, waiter?: JournalWaiter): void {
    const p = this.plan;
    (this.res as Tagged)[EXCHANGE] = undefined;
    this.res.removeListener("drain", onClientDrain);
    const usage = this.usage(aborted);
    const served = this.served;
    const costNano = usageCostNano(usage, served?.price ?? priceAt(p.model, p.startedAt));
    const status = this.status || 499;
    this.core.record({
      id: p.requestId, at: p.startedAt, orgId: p.orgId, workspaceId: p.workspaceId, keyId: p.keyId, provider: served?.provider ?? p.provider, model: p.model.id,
      deployment: served?.credentialId ?? null, attempts: this.attempt + 1,
      endpoint: p.op, inputTokens: usage.input, outputTokens: usage.output, cacheWriteTokens: usage.cacheWrite, cacheReadTokens: usage.cacheRead,
      costNano, status, errorCode: this.upstreamFailed ?? (aborted ? "client_closed" : status >= 400 ? "upstream_status" : null),
      streamed: p.streamed, aborted, latencyMs: msSince(p.startedHr), ttfbMs: this.ttfbMs,
    }, p, { inputTokens: usage.input, outputTokens: usage.output, cacheWriteTokens: usage.cacheWrite, cacheReadTokens: usage.cacheRead, costNano, status, aborted }, {
      keyName: p.keyName, upstreamStatus: this.upstreamStatus, attempts: this.attempt + 1,
      deployment: served?.credentialId ?? this.current().credentialId, refusal: null,
      traceparent: traceHeader(this.req.headers.traceparent), tracestate: traceHeader(this.req.headers.tracestate), trace: this.trace, notice: p.notice,
    }, waiter);
  }

  /**
   * An upstream error body in a shape the caller does not speak (Bedrock's `{"message"}`,
   * Google's RPC status), or a refused credential in any shape: answered in the caller's dialect
   * with the status it maps to (see `errorCodeFor`) and the upstream's message.
   */
  private answerUpstreamError(): void {
    const text = Buffer.concat(this.errorBody ?? []).toString("utf8");
    this.errorBody = null;
    if (!this.served?.target!.errors && !credentialRefused(this.status)) {
      const own = withRequestId(text, this.plan.requestId);
      if (own !== null) {
        this.upstreamFailed = "upstream_status";
        this.finish(false);
        if (this.res.headersSent || this.res.destroyed) return;
        const headers = clientResponseHeaders(this.upstreamHeaders ?? {}, requestIdHeader(this.plan.dialect), this.plan.requestId, false, this.plan.headers);
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(own));
        this.res.writeHead(this.status, headers);
        this.res.end(own);
        return;
      }
    }
    const reply = errorReply(this.plan.dialect, errorCodeFor(this.status), `The provider answered ${this.status}: ${upstreamMessage(text)}`,
      this.plan.requestId, { headers: this.plan.headers });
    this.status = reply.status;
    this.upstreamFailed = "upstream_status";
    this.finish(false);
    sendReply(this.res, reply);
  }

  /** What the response reported; for a cut stream that never reported, an estimate from what passed. */
  private usage(aborted: boolean): TokenUsage {
    if (!this.meter) return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    const r = this.meter.read();
    if (!aborted && !this.upstreamFailed) {
      // Gemini's embeddings reported no usage before its newest API versions: they are billed on
      // an estimate of the input (four bytes a token) rather than not at all.
      const embeds = this.plan.op === "embed_content" || this.plan.op === "batch_embed_contents" || this.served?.translation?.embed;
      if (!r.reported && embeds && this.status < 300) {
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

/** An Anthropic error body (`{"type":"error",…}`) naming `requestId` instead of the provider's id; null when it is not one. */
function withRequestId(text: string, requestId: string): string | null {
  try {
    const j = JSON.parse(text) as Record<string, unknown> | null;
    if (!j || typeof j !== "object" || j.type !== "error") return null;
    j.request_id = requestId;
    return JSON.stringify(j);
  } catch {
    return null;
  }
}

/**
 * A 401 or 403 from a provider: it refused the organization's credential (an expired token, a
 * wrong key or secret, a missing permission), never the caller's key, which does not leave the
 * gateway. Passed on as it came, it would tell the caller their own key was wrong.
 */
function credentialRefused(status: number): boolean {
  return status === 401 || status === 403;
}

/** A provider's error status as ours: the caller's mistakes stay theirs; the gateway's credential failing is a 502. */
function errorCodeFor(status: number): ErrorCode {
  if (status === 400 || status === 422) return "invalid_request";
  if (status === 404) return "not_found";
  if (status === 408 || status === 504) return "upstream_timeout";
  if (status === 429) return "rate_limited";
  if (status === 529 || status === 503) return "overloaded";
  return "upstream_error";
}

/** The message of a Bedrock (`message`/`Message`) or Google (`error.message`, also array-wrapped) error body. */
function upstreamMessage(text: string): string {
  try {
    let j = JSON.parse(text) as unknown;
    if (Array.isArray(j)) j = j[0];
    const o = j as { message?: unknown; Message?: unknown; error?: { message?: unknown } };
    const m = o.message ?? o.Message ?? o.error?.message;
    if (typeof m === "string") return m.slice(0, 2000);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 500) || "no details";
}

/** What a candidate's request headers are built from: its caller-header allow-list, or its kind of translation. */
function headerSourceOf(c: Candidate): readonly string[] {
  if (!c.translation) return c.target!.clientHeaders;
  return c.translation.upstream === "anthropic" ? TRANSLATED_TO_ANTHROPIC : TRANSLATED;
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
