import type { ErrorCode } from "../../../errors/index.js";
import { isObject, NO_USAGE, safeId, wrapSignature, type CanonicalUsage, type Json, type StreamEvent } from "../canonical.js";
import { sse, SseJsonDecoder } from "../sse.js";
import { BaseStreamEncoder, type PartEvent } from "../stream-encoder.js";
import { anthropicStop, anthropicStopOut, anthropicUsage, anthropicUsageOut } from "./response.js";

// The frames of a stream in Anthropic's exact compact form, read without a parse of the whole object.
const DELTA = '{"type":"content_block_delta","index":';
const TEXT = ',"delta":{"type":"text_delta","text":"';
const BLOCK_STOP = '{"type":"content_block_stop","index":';
const PING = '{"type":"ping"}';
const MESSAGE_STOP = '{"type":"message_stop"}';

/** Anthropic SSE → canonical events. Usage is split between message_start and the cumulative message_delta. */
export class AnthropicStreamDecoder extends SseJsonDecoder {
  private startUsage: CanonicalUsage = NO_USAGE;
  /** Anthropic block index → canonical part index (-1: a block that is not carried, e.g. redacted thinking). */
  private readonly parts: number[] = [];
  private next = 0;

  /**
   * Most frames of a stream are text deltas: read as the digits of the index and the text's JSON
   * string (no parse at all when it holds no escape). Pings and block and message stops, whose
   * forms are fixed, are read the same way; anything else is parsed whole. (Prefixes are matched
   * with indexOf: Node 20's startsWith costs about 5 ns a character, more than the rest of a frame.)
   */
  protected override fast(data: string, out: StreamEvent[]): boolean {
    if (data.indexOf(DELTA) === 0) {
      const end = digits(data, DELTA.length);
      const from = end + TEXT.length;
      if (end < 0 || data.indexOf(TEXT, end) !== end || from > data.length - 3 || !data.endsWith('"}}')) return false;
      const raw = data.slice(from, data.length - 3);
      let text: string;
      if (raw.indexOf('"') < 0 && raw.indexOf("\\") < 0) text = raw;
      else {
        try {
          text = JSON.parse(`"${raw}"`) as string;
        } catch {
          return false;
        }
      }
      const index = this.parts[indexAt(data, DELTA.length, end)] ?? -1;
      if (index >= 0) out.push({ type: "text", index, text });
      return true;
    }
    if (data.indexOf(BLOCK_STOP) === 0) {
      const end = digits(data, BLOCK_STOP.length);
      if (end < 0 || end !== data.length - 1 || data.charCodeAt(end) !== 0x7d) return false;
      const index = this.parts[indexAt(data, BLOCK_STOP.length, end)] ?? -1;
      if (index >= 0) out.push({ type: "part_stop", index });
      return true;
    }
    if (data === PING) return true;
    if (data === MESSAGE_STOP) {
      this.done = true;
      return true;
    }
    return false;
  }

  protected frame(d: Json, out: StreamEvent[]): void {
    switch (d.type) {
      case "message_start": {
        const m = isObject(d.message) ? d.message : {};
        this.startUsage = anthropicUsage(m.usage);
        out.push({ type: "start", id: String(m.id ?? ""), model: String(m.model ?? "") });
        break;
      }
      case "content_block_start": {
        const b = isObject(d.content_block) ? d.content_block : {};
        const kind = b.type === "text" ? "text" : b.type === "tool_use" ? "tool_call" : b.type === "thinking" || b.type === "redacted_thinking" ? "thinking" : null;
        const index = kind ? this.next++ : -1;
        this.parts[Number(d.index)] = index;
        if (kind === "tool_call") out.push({ type: "part_start", index, kind, id: String(b.id), name: String(b.name) });
        else if (kind) out.push({ type: "part_start", index, kind });
        // Redacted thinking arrives whole: its data is carried as the part's signature.
        if (b.type === "redacted_thinking") out.push({ type: "signature", index, signature: String(b.data ?? ""), origin: "anthropic", redacted: true });
        break;
      }
      case "content_block_delta": {
        const index = this.parts[Number(d.index)] ?? -1;
        const delta = isObject(d.delta) ? d.delta : {};
        if (index < 0) break;
        if (delta.type === "text_delta") out.push({ type: "text", index, text: String(delta.text ?? "") });
        else if (delta.type === "input_json_delta") out.push({ type: "args", index, json: String(delta.partial_json ?? "") });
        else if (delta.type === "thinking_delta") out.push({ type: "thinking", index, text: String(delta.thinking ?? "") });
        else if (delta.type === "signature_delta") out.push({ type: "signature", index, signature: String(delta.signature ?? ""), origin: "anthropic" });
        break;
      }
      case "content_block_stop": {
        const index = this.parts[Number(d.index)] ?? -1;
        if (index >= 0) out.push({ type: "part_stop", index });
        break;
      }
      case "message_delta": {
        const u = anthropicUsage(d.usage);
        const s = this.startUsage;
        // message_delta's counts are cumulative and may omit input: the larger of the two is the total.
        out.push({ type: "usage", usage: { input: Math.max(u.input, s.input), cacheRead: Math.max(u.cacheRead, s.cacheRead), cacheWrite: Math.max(u.cacheWrite, s.cacheWrite), output: Math.max(u.output, s.output), reasoning: Math.max(u.reasoning, s.reasoning) } });
        out.push({ type: "stop", reason: anthropicStop(isObject(d.delta) ? d.delta.stop_reason : null) });
        break;
      }
      case "message_stop":
        this.done = true;
        break;
      case "error": {
        const e = isObject(d.error) ? d.error : {};
        out.push({ type: "error", code: e.type === "overloaded_error" ? "overloaded" : e.type === "rate_limit_error" ? "rate_limited" : "upstream_error", message: String(e.message ?? "The provider failed.") });
        this.done = true;
        break;
      }
    }
  }
}

/** Canonical events → Anthropic SSE, with the `event:` lines the Python SDK dispatches on. */
export class AnthropicStreamEncoder extends BaseStreamEncoder {
  readonly contentType = "text/event-stream; charset=utf-8";
  private block = 0;
  private open = -1;

  protected opening(id: string): string {
    const message = { id: id.startsWith("msg_") ? id : `msg_${id}`, type: "message", role: "assistant", model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return sse("message_start", { type: "message_start", message });
  }

  protected part(ev: PartEvent): string {
    switch (ev.type) {
      case "part_start": {
        const out = this.closeBlock();
        this.open = this.block;
        const cb = ev.kind === "text" ? { type: "text", text: "" } : ev.kind === "thinking" ? { type: "thinking", thinking: "", signature: "" }
          : { type: "tool_use", id: safeId(ev.id ?? ""), name: ev.name, input: {} };
        return out + sse("content_block_start", { type: "content_block_start", index: this.block, content_block: cb });
      }
      // The per-token frame is written by hand: it is most of a stream, and a template is several times cheaper than an object stringified.
      case "text": return this.open < 0 ? "" : `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.open},"delta":{"type":"text_delta","text":${JSON.stringify(ev.text)}}}\n\n`;
      case "args": return ev.json === "" ? "" : this.delta({ type: "input_json_delta", partial_json: ev.json });
      case "thinking": return this.delta({ type: "thinking_delta", thinking: ev.text });
      case "signature": return this.delta({ type: "signature_delta", signature: wrapSignature("anthropic", ev.origin, ev.signature, ev.redacted) });
      case "part_stop": return this.closeBlock();
    }
  }

  protected closing(): string {
    return this.closeBlock()
      + sse("message_delta", { type: "message_delta", delta: { stop_reason: anthropicStopOut(this.stopReason), stop_sequence: null }, usage: anthropicUsageOut(this.usage) })
      + sse("message_stop", { type: "message_stop" });
  }

  protected failure(code: ErrorCode, message: string): string {
    const type = code === "overloaded" ? "overloaded_error" : code === "rate_limited" ? "rate_limit_error" : "api_error";
    return sse("error", { type: "error", error: { type, message }, request_id: this.requestId });
  }

  private delta(delta: Record<string, unknown>): string {
    return this.open < 0 ? "" : sse("content_block_delta", { type: "content_block_delta", index: this.open, delta });
  }

  private closeBlock(): string {
    if (this.open < 0) return "";
    const index = this.open;
    this.open = -1;
    this.block++;
    return sse("content_block_stop", { type: "content_block_stop", index });
  }
}

/** The end of the run of digits at `from` in `s`; -1 when there is none. */
function digits(s: string, from: number): number {
  let i = from;
  for (let c = s.charCodeAt(i); c >= 0x30 && c <= 0x39; c = s.charCodeAt(++i));
  return i === from ? -1 : i;
}

/** The number written by the digits s[from, to). */
function indexAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 0x30;
  return n;
}
