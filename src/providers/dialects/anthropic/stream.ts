import { isObject, NO_USAGE, safeId, wrapSignature, type CanonicalUsage, type Json, type StopReason, type StreamEvent } from "../canonical.js";
import type { StreamEncoder } from "../codec.js";
import { sse, SseJsonDecoder } from "../sse.js";
import { anthropicStop, anthropicStopOut, anthropicUsage, anthropicUsageOut } from "./response.js";

const TEXT_DELTA = /^\{"type":"content_block_delta","index":(\d+),"delta":\{"type":"text_delta","text":("(?:[^"\\]|\\.)*")\}\}$/;

/** Anthropic SSE → canonical events. Usage is split between message_start and the cumulative message_delta. */
export class AnthropicStreamDecoder extends SseJsonDecoder {
  private startUsage: CanonicalUsage = NO_USAGE;
  /** Anthropic block index → canonical part index (-1: a block that is not carried, e.g. redacted thinking). */
  private readonly parts: number[] = [];
  private next = 0;

  /** Most frames of a stream are text deltas in Anthropic's exact compact form: one match and the text's own JSON.parse. */
  protected override fast(data: string, out: StreamEvent[]): boolean {
    const m = TEXT_DELTA.exec(data);
    if (!m) return false;
    const index = this.parts[Number(m[1])] ?? -1;
    if (index >= 0) out.push({ type: "text", index, text: JSON.parse(m[2]!) as string });
    return true;
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
export class AnthropicStreamEncoder implements StreamEncoder {
  readonly contentType = "text/event-stream; charset=utf-8";
  private started = false;
  private block = 0;
  private open = -1;
  private stop: StopReason = "end";
  private usage: CanonicalUsage = NO_USAGE;
  private sawTool = false;
  private ended = false;

  constructor(private readonly model: string, private readonly requestId: string) {}

  encode(ev: StreamEvent): string {
    if (this.ended) return "";
    let out = this.started || ev.type === "error" ? "" : this.start(ev.type === "start" ? ev.id : this.requestId);
    switch (ev.type) {
      case "part_start": {
        out += this.close();
        this.open = this.block;
        if (ev.kind === "tool_call") this.sawTool = true;
        const cb = ev.kind === "text" ? { type: "text", text: "" } : ev.kind === "thinking" ? { type: "thinking", thinking: "", signature: "" }
          : { type: "tool_use", id: safeId(ev.id ?? ""), name: ev.name, input: {} };
        return out + sse("content_block_start", { type: "content_block_start", index: this.block, content_block: cb });
      }
      // The per-token frame is written by hand: it is most of a stream, and a template is several times cheaper than an object stringified.
      case "text": return this.open < 0 ? out : out + `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.open},"delta":{"type":"text_delta","text":${JSON.stringify(ev.text)}}}\n\n`;
      case "args": return ev.json === "" ? out : out + this.delta({ type: "input_json_delta", partial_json: ev.json });
      case "thinking": return out + this.delta({ type: "thinking_delta", thinking: ev.text });
      case "signature": return out + this.delta({ type: "signature_delta", signature: wrapSignature("anthropic", ev.origin, ev.signature, ev.redacted) });
      case "part_stop": return out + this.close();
      case "usage":
        this.usage = ev.usage;
        return out;
      case "stop":
        this.stop = ev.reason;
        return out;
      case "error":
        this.ended = true;
        return out + sse("error", { type: "error", error: { type: ev.code === "overloaded" ? "overloaded_error" : ev.code === "rate_limited" ? "rate_limit_error" : "api_error", message: ev.message }, request_id: this.requestId });
      default:
        return out;
    }
  }

  end(clean: boolean): string {
    if (this.ended) return "";
    this.ended = true;
    if (!clean) return sse("error", { type: "error", error: { type: "api_error", message: "The provider's stream ended unexpectedly." }, request_id: this.requestId });
    const stop = this.stop === "end" && this.sawTool ? "tool_use" : this.stop;
    return (this.started ? "" : this.start(this.requestId)) + this.close()
      + sse("message_delta", { type: "message_delta", delta: { stop_reason: anthropicStopOut(stop), stop_sequence: null }, usage: anthropicUsageOut(this.usage) })
      + sse("message_stop", { type: "message_stop" });
  }

  private start(id: string): string {
    this.started = true;
    const message = { id: id.startsWith("msg_") ? id : `msg_${id}`, type: "message", role: "assistant", model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return sse("message_start", { type: "message_start", message });
  }

  private delta(delta: Record<string, unknown>): string {
    return this.open < 0 ? "" : sse("content_block_delta", { type: "content_block_delta", index: this.open, delta });
  }

  private close(): string {
    if (this.open < 0) return "";
    const index = this.open;
    this.open = -1;
    this.block++;
    return sse("content_block_stop", { type: "content_block_stop", index });
  }
}
