import type { ErrorCode } from "../../../errors/index.js";
import { isObject, originFamily, safeId, wrapSignature, type Json, type StreamEvent } from "../canonical.js";
import { sse, SseJsonDecoder } from "../sse.js";
import { BaseStreamEncoder, type PartEvent } from "../stream-encoder.js";
import { chatStop, chatStopOut, chatThinkingBlock, chatUsageOut, openaiUsage } from "./response.js";

/** Chat Completions chunks → canonical events: text and each tool call (by its `index`) become parts. */
export class ChatStreamDecoder extends SseJsonDecoder {
  private started = false;
  private open = -1;
  private textPart = -1;
  private next = 0;
  /** Tool call index → canonical part index. */
  private readonly tools: number[] = [];

  protected override fast(data: string, out: StreamEvent[]): boolean {
    if (data !== "[DONE]") return false;
    this.close(out);
    this.done = true;
    return true;
  }

  protected frame(d: Json, out: StreamEvent[]): void {
    if (isObject(d.error)) {
      out.push({ type: "error", code: "upstream_error", message: String(d.error.message ?? "The provider failed.") });
      this.done = true;
      return;
    }
    if (!this.started) {
      this.started = true;
      out.push({ type: "start", id: String(d.id ?? ""), model: String(d.model ?? "") });
    }
    const choice = Array.isArray(d.choices) && isObject(d.choices[0]) ? d.choices[0] : null;
    const delta = choice && isObject(choice.delta) ? choice.delta : {};
    const text = typeof delta.content === "string" ? delta.content : typeof delta.refusal === "string" ? delta.refusal : "";
    if (text !== "") {
      if (this.textPart < 0 || this.open !== this.textPart) {
        this.close(out);
        this.textPart = this.open = this.next++;
        out.push({ type: "part_start", index: this.open, kind: "text" });
      }
      out.push({ type: "text", index: this.open, text });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const t of delta.tool_calls) {
        if (!isObject(t)) continue;
        const k = Number(t.index ?? 0);
        const f = isObject(t.function) ? t.function : {};
        if (this.tools[k] === undefined) {
          this.close(out);
          this.tools[k] = this.open = this.next++;
          out.push({ type: "part_start", index: this.open, kind: "tool_call", id: String(t.id ?? `call_${k}`), name: String(f.name ?? "") });
        }
        if (typeof f.arguments === "string" && f.arguments !== "") out.push({ type: "args", index: this.tools[k]!, json: f.arguments });
      }
    }
    if (choice && choice.finish_reason) {
      this.close(out);
      out.push({ type: "stop", reason: chatStop(choice.finish_reason) });
    }
    if (isObject(d.usage)) out.push({ type: "usage", usage: openaiUsage(d.usage) });
  }

  private close(out: StreamEvent[]): void {
    if (this.open >= 0) out.push({ type: "part_stop", index: this.open });
    this.open = -1;
  }
}

/** Canonical events → Chat Completions chunks; tool calls are numbered by their own ordinal, not the part index. */
export class ChatStreamEncoder extends BaseStreamEncoder {
  readonly contentType = "text/event-stream; charset=utf-8";
  private readonly created = Math.floor(Date.now() / 1000);
  private tool = -1;
  /** Every chunk's fields before its choices, and up to its delta: written once the id is known (templates, not objects stringified chunk by chunk). */
  private fields = "";
  private head = "";
  /** A Gemini thought signature waiting for the tool call it signed (it comes just before it). */
  private signature: string | null = null;
  /** The text of the thinking part under way, for its signed block. */
  private thought = "";

  constructor(model: string, private readonly includeUsage: boolean, requestId: string) {
    super(model, requestId);
  }

  protected opening(id: string): string {
    this.fields = `{"id":${JSON.stringify(id.startsWith("chatcmpl-") ? id : `chatcmpl-${id}`)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(this.model)}`;
    this.head = `data: ${this.fields},"choices":[{"index":0,"delta":`;
    return this.chunk({ role: "assistant", content: "" }, null);
  }

  protected part(ev: PartEvent): string {
    switch (ev.type) {
      case "part_start":
        if (ev.kind === "thinking") this.thought = "";
        if (ev.kind !== "tool_call") return "";
        this.tool++;
        return this.chunk({ tool_calls: [{ index: this.tool, id: safeId(ev.id ?? ""), type: "function", function: { name: ev.name, arguments: "" }, ...this.signed() }] }, null);
      case "signature":
        this.signature = originFamily(ev.origin) === "gemini" ? wrapSignature("chat", ev.origin, ev.signature, ev.redacted) : null;
        // A signed block goes out whole once signed (its signature comes last), as one `thinking_blocks` entry.
        if (originFamily(ev.origin) !== "anthropic") return "";
        return this.chunk({ thinking_blocks: [chatThinkingBlock({ type: "thinking", text: ev.redacted ? "" : this.thought, signature: ev.signature, origin: ev.origin, ...(ev.redacted ? { redacted: true } : {}) })] }, null);
      case "thinking":
        this.thought += ev.text;
        return ev.text === "" ? "" : this.chunk({ reasoning_content: ev.text }, null);
      case "text":
        this.signature = null;
        // The per-token frame is written by hand (most of a stream; a template is several times cheaper).
        return `${this.head}{"content":${JSON.stringify(ev.text)}},"logprobs":null,"finish_reason":null}]}\n\n`;
      case "args": return ev.json === "" ? "" : this.chunk({ tool_calls: [{ index: this.tool, function: { arguments: ev.json } }] }, null);
      case "part_stop": return "";
    }
  }

  protected closing(): string {
    let out = this.chunk({}, chatStopOut(this.stopReason));
    if (this.includeUsage) out += `data: ${this.fields},"choices":[],"usage":${JSON.stringify(chatUsageOut(this.usage))}}\n\n`;
    return out + "data: [DONE]\n\n";
  }

  protected failure(code: ErrorCode, message: string): string {
    return sse(null, { error: { message, type: code === "rate_limited" ? "requests" : "server_error", param: null, code: null } });
  }

  /** The pending signature as the tool call's `extra_content`, where Google's own OpenAI-compatible API puts it. */
  private signed(): Json {
    const sig = this.signature;
    this.signature = null;
    return sig ? { extra_content: { google: { thought_signature: sig } } } : {};
  }

  private chunk(delta: Record<string, unknown>, finish: string | null): string {
    return `${this.head}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? "null" : JSON.stringify(finish)}}]}\n\n`;
  }
}
