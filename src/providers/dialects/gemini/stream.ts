import type { ErrorCode } from "../../../errors/index.js";
import { isObject, parseArgs, TranslationError, wrapSignature, type Json, type StreamEvent } from "../canonical.js";
import { SseJsonDecoder } from "../sse.js";
import { BaseStreamEncoder, type PartEvent } from "../stream-encoder.js";
import { geminiStop, geminiStopOut, geminiUsage, geminiUsageOut } from "./response.js";

/** Gemini `alt=sse` chunks → canonical events. Function calls arrive whole, each its own part. */
export class GeminiStreamDecoder extends SseJsonDecoder {
  private started = false;
  private open = -1;
  private openKind: "text" | "thinking" | null = null;
  private next = 0;
  private calls = 0;
  private id = "";

  protected frame(d: Json, out: StreamEvent[]): void {
    if (isObject(d.error)) {
      out.push({ type: "error", code: "upstream_error", message: String(d.error.message ?? "The provider failed.") });
      this.done = true;
      return;
    }
    if (!this.started) {
      this.started = true;
      this.id = String(d.responseId ?? "");
      out.push({ type: "start", id: this.id, model: String(d.modelVersion ?? "") });
    }
    const c = Array.isArray(d.candidates) && isObject(d.candidates[0]) ? d.candidates[0] : null;
    const content = c && isObject(c.content) ? c.content : {};
    for (const p of Array.isArray(content.parts) ? content.parts : []) {
      if (!isObject(p)) continue;
      const sig = typeof p.thoughtSignature === "string" && p.thoughtSignature !== "" ? p.thoughtSignature : null;
      if (typeof p.text === "string") {
        const kind = p.thought === true ? "thinking" : "text";
        // A signature on anything but a thought stands alone, before the part it signed.
        if (sig && kind === "text") this.signed(sig, out);
        if (p.text === "" && !(sig && kind === "thinking")) continue;
        if (this.openKind !== kind) {
          this.close(out);
          this.open = this.next++;
          this.openKind = kind;
          out.push({ type: "part_start", index: this.open, kind });
        }
        if (p.text !== "") out.push(kind === "text" ? { type: "text", index: this.open, text: p.text } : { type: "thinking", index: this.open, text: p.text });
        if (sig && kind === "thinking") out.push({ type: "signature", index: this.open, signature: sig, origin: "gemini" });
      } else if (isObject(p.functionCall)) {
        if (sig) this.signed(sig, out);
        this.close(out);
        const f = p.functionCall;
        const index = this.next++;
        out.push({ type: "part_start", index, kind: "tool_call", id: typeof f.id === "string" ? f.id : `call_${this.id}_${this.calls}`, name: String(f.name) });
        out.push({ type: "args", index, json: JSON.stringify(isObject(f.args) ? f.args : {}) });
        out.push({ type: "part_stop", index });
        this.calls++;
      }
    }
    if (isObject(d.usageMetadata)) out.push({ type: "usage", usage: geminiUsage(d.usageMetadata) });
    if (c && typeof c.finishReason === "string") {
      this.close(out);
      out.push({ type: "stop", reason: geminiStop(c.finishReason, this.calls > 0) });
      this.done = true;
    } else if (!c && isObject(d.promptFeedback) && d.promptFeedback.blockReason) {
      out.push({ type: "stop", reason: "refusal" });
      this.done = true;
    }
  }

  private close(out: StreamEvent[]): void {
    if (this.open >= 0) out.push({ type: "part_stop", index: this.open });
    this.open = -1;
    this.openKind = null;
  }

  /** A thought signature of the part that follows, as a thinking part of its own with no text. */
  private signed(signature: string, out: StreamEvent[]): void {
    this.close(out);
    const index = this.next++;
    out.push({ type: "part_start", index, kind: "thinking" }, { type: "signature", index, signature, origin: "gemini" }, { type: "part_stop", index });
  }
}

/** Canonical events → Gemini chunks, as SSE or as one JSON array; tool arguments are held until the call is whole. */
export class GeminiStreamEncoder extends BaseStreamEncoder {
  readonly contentType: string;
  private count = 0;
  private tool: { id: string; name: string; args: string } | null = null;
  /** What follows the candidates in every chunk (model and response id), written once the id is known. */
  private tail = "";
  private id = "";

  constructor(model: string, private readonly sseFraming: boolean, requestId: string) {
    super(model, requestId);
    this.contentType = sseFraming ? "text/event-stream" : "application/json; charset=UTF-8";
  }

  /** Gemini's stream has no opening frame: the id names every chunk. */
  protected opening(id: string): string {
    this.id = id || this.requestId;
    this.tail = `,"modelVersion":${JSON.stringify(this.model)},"responseId":${JSON.stringify(this.id)}}`;
    return "";
  }

  protected part(ev: PartEvent): string {
    switch (ev.type) {
      // The per-token frame is written by hand (most of a stream; a template is several times cheaper).
      case "text": return this.frameText(`{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(ev.text)}}]},"index":0}]${this.tail}`);
      case "thinking": return this.chunk([{ text: ev.text, thought: true }]);
      // Another provider's signature (an Anthropic thinking block's) rides on a thought of its own, tagged.
      case "signature": return this.chunk([{ text: "", thought: true, thoughtSignature: wrapSignature("gemini", ev.origin, ev.signature, ev.redacted) }]);
      case "part_start":
        if (ev.kind === "tool_call") this.tool = { id: ev.id ?? "", name: ev.name ?? "", args: "" };
        return "";
      case "args":
        if (this.tool) this.tool.args += ev.json;
        return "";
      case "part_stop": {
        const t = this.tool;
        if (!t) return "";
        this.tool = null;
        try {
          return this.chunk([{ functionCall: { id: t.id, name: t.name, args: parseArgs(t.args, "functionCall.args") } }]);
        } catch (err) {
          this.ended = true;
          return this.failure("upstream_error", err instanceof TranslationError ? err.message : "The provider sent unreadable tool arguments.");
        }
      }
    }
  }

  protected closing(): string {
    const last = this.frame({ candidates: [{ content: { role: "model", parts: [{ text: "" }] }, finishReason: geminiStopOut(this.stop), index: 0 }], usageMetadata: geminiUsageOut(this.usage), modelVersion: this.model, responseId: this.id });
    return last + (this.sseFraming ? "" : "]");
  }

  protected failure(code: ErrorCode, message: string): string {
    const status = code === "rate_limited" ? 429 : 500;
    const out = this.frame({ error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL" } });
    return out + (this.sseFraming ? "" : "]");
  }

  private chunk(parts: Json[]): string {
    return this.frameText(`{"candidates":[{"content":{"role":"model","parts":${JSON.stringify(parts)}},"index":0}]${this.tail}`);
  }

  private frame(payload: Json): string {
    return this.frameText(JSON.stringify(payload));
  }

  private frameText(json: string): string {
    if (this.sseFraming) return `data: ${json}\n\n`;
    return (this.count++ === 0 ? "[" : ",\r\n") + json;
  }
}
