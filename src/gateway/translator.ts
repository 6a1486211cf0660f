import type { ServerResponse } from "node:http";
import {
  CODECS, codeForStatus, decodeGeminiEmbedResponse, errorMessage, signatureOrigin, type CanonicalResponse, type StreamDecoder, type StreamEncoder, type StreamEvent,
} from "../providers/index.js";
import type { Plan, Translation } from "./plan.js";
import { SignedTurn, type ReasoningKeep } from "./reasoning-keep.js";
import { errorReply, requestIdHeader, sendError, sendReply, type ErrorReply } from "./respond.js";

/**
 * Rewrites one upstream answer into the caller's dialect: streams event by event, JSON and error
 * bodies whole at the end. Usage is metered from the upstream bytes before they reach this
 * (Exchange), never from what it writes. Plain fields, no closures (DESIGN.md, hot-path lessons).
 */
export class Translator {
  private readonly decoder: StreamDecoder | null;
  private readonly encoder: StreamEncoder | null;
  private readonly held: Buffer[] = [];
  /** A Chat caller's answer from Anthropic: its signed thinking and tool calls, kept when it has both. */
  private readonly turn: SignedTurn | null;
  /** The model that signs this answer's reasoning: its signatures are bound to it. */
  private readonly origin: string;

  constructor(private readonly plan: Plan, private readonly t: Translation, private readonly status: number, upstreamSse: boolean, private readonly keep: ReasoningKeep) {
    this.turn = status < 300 && t.caller === "chat" && t.upstream === "anthropic" ? new SignedTurn() : null;
    this.origin = signatureOrigin(t.upstream, plan.model.id);
    const streaming = status < 300 && plan.streamed && upstreamSse;
    this.decoder = streaming ? CODECS[t.upstream].newStreamDecoder() : null;
    this.encoder = streaming
      ? CODECS[t.caller].newStreamEncoder({ model: plan.modelName, includeUsage: t.includeUsage, sse: plan.sse, requestId: plan.requestId })
      : null;
  }

  /** Writes the caller's status and headers now for a stream; a JSON or error answer waits for its end. */
  start(res: ServerResponse): void {
    if (!this.encoder) return;
    const headers: Record<string, string> = { ...this.plan.headers, "content-type": this.encoder.contentType, "cache-control": "no-cache" };
    headers[requestIdHeader(this.plan.dialect)] = this.plan.requestId;
    res.writeHead(200, headers);
  }

  /** The caller's bytes for an upstream chunk ("" while holding a JSON body). */
  push(chunk: Buffer): string {
    if (!this.decoder || !this.encoder) {
      this.held.push(chunk);
      return "";
    }
    return this.encode(this.decoder.push(chunk));
  }

  /**
   * Finishes the answer: the stream's closing events, or the whole translated JSON or error body.
   * `ending` learns the status sent just before the last bytes leave (the request is recorded first).
   */
  finish(res: ServerResponse, ending: { ending(status: number): void }): void {
    if (this.decoder && this.encoder) {
      const rest = this.encode(this.decoder.end());
      const tail = rest + this.encoder.end(this.decoder.done);
      if (this.decoder.done) this.keepTurn();
      ending.ending(200);
      res.end(tail);
      return;
    }
    const text = Buffer.concat(this.held).toString("utf8");
    const reply = this.status >= 300 ? this.refusal(text) : this.translated(text);
    ending.ending(reply.status);
    sendReply(res, reply);
  }

  private translated(text: string): ErrorReply {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return errorReply(this.plan.dialect, "upstream_error", "The provider's answer could not be read.", this.plan.requestId, { headers: this.plan.headers });
    }
    let out: string;
    try {
      // Embeddings the upstream did not count are billed on the same estimate the exchange meters.
      out = JSON.stringify(this.t.embed
        ? decodeGeminiEmbedResponse(body, this.plan.modelName, this.t.embed.base64, Math.ceil(this.plan.inputTokenBound / 4))
        : CODECS[this.t.caller].encodeResponse(this.decoded(body), this.plan.modelName));
    } catch {
      return errorReply(this.plan.dialect, "upstream_error", "The provider's answer could not be translated.", this.plan.requestId, { headers: this.plan.headers });
    }
    const headers: Record<string, string> = { ...this.plan.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(out)) };
    headers[requestIdHeader(this.plan.dialect)] = this.plan.requestId;
    return { status: 200, headers, text: out };
  }

  private decoded(body: Record<string, unknown>): CanonicalResponse {
    const r = CODECS[this.t.upstream].decodeResponse(body);
    for (const p of r.parts) if (p.type === "thinking" && p.signature) p.origin = this.origin;
    if (this.turn) {
      this.turn.parts(r.parts);
      this.keepTurn();
    }
    return r;
  }

  /** Keeps the answer's signed thinking under its tool call ids (reasoning-keep.ts); a failure only costs the fallback. */
  private keepTurn(): void {
    const turn = this.turn;
    if (!turn?.worthKeeping) return;
    this.keep.put(this.plan.orgId, turn.calls, turn.blocks).catch(() => undefined);
  }

  /** The upstream broke off after bytes were sent: the caller's in-band error. */
  abort(res: ServerResponse): void {
    if (this.encoder && !res.destroyed) res.end(this.encoder.end(false));
    else if (!res.headersSent) sendError(res, this.plan.dialect, "upstream_error", "The provider's answer ended unexpectedly.", this.plan.requestId, { headers: this.plan.headers });
    else res.destroy();
  }

  private refusal(text: string): ErrorReply {
    return errorReply(this.plan.dialect, codeForStatus(this.status), errorMessage(text), this.plan.requestId, { headers: this.plan.headers });
  }

  private encode(events: StreamEvent[]): string {
    let out = "";
    const turn = this.turn;
    for (const ev of events) {
      if (ev.type === "signature") ev.origin = this.origin;
      if (turn) turn.event(ev);
      out += this.encoder!.encode(ev);
    }
    return out;
  }
}
