import { AnthropicStreamEncoder } from "../../dialects/anthropic/stream.js";
import { isObject, type StreamEvent } from "../../dialects/canonical.js";
import { EventStreamReader, EXCEPTION_TYPES, header, streamFailure, type Message } from "../eventstream.js";
import { converseStop, converseUsage } from "./response.js";

const CODES: Record<string, "rate_limited" | "overloaded" | "upstream_error"> = { rate_limit_error: "rate_limited", overloaded_error: "overloaded" };

/**
 * Re-frames a ConverseStream answer (AWS event-stream frames: messageStart, contentBlockStart,
 * contentBlockDelta, contentBlockStop, messageStop, then metadata with the usage) as Anthropic
 * server-sent events, through the canonical events and Anthropic's stream encoder. Converse opens
 * a text block with its first delta, not with a start event: parts open on first sight.
 */
export class ConverseStreamToSse extends EventStreamReader {
  private readonly encoder: AnthropicStreamEncoder;
  /** Converse block index → canonical part index. */
  private readonly parts: number[] = [];
  private next = 0;
  /** The final metadata event arrived (a stream without it was cut). */
  private done = false;
  private readonly events: StreamEvent[] = [];

  constructor(private readonly model: string, private readonly requestId: string) {
    super();
    this.encoder = new AnthropicStreamEncoder(model, requestId);
  }

  protected message(m: Message): string {
    const kind = header(m, ":message-type");
    const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength).toString("utf8");
    const events = this.events;
    events.length = 0;
    if (kind === "event") {
      let d: unknown;
      try {
        d = JSON.parse(body);
      } catch {
        return "";
      }
      if (isObject(d)) this.event(header(m, ":event-type"), d);
    } else {
      const { name, message } = streamFailure(m, kind, body);
      this.done = true;
      events.push({ type: "error", code: CODES[EXCEPTION_TYPES[name] ?? ""] ?? "upstream_error", message: message || "The provider's stream failed." });
    }
    let out = "";
    for (const ev of events) out += this.encoder.encode(ev);
    return out;
  }

  protected failure(why: string): string {
    return this.encoder.encode({ type: "error", code: "upstream_error", message: `The provider's stream could not be read: ${why}` });
  }

  protected override closing(): string {
    return this.encoder.end(this.done);
  }

  private event(type: string, d: Record<string, unknown>): void {
    const out = this.events;
    switch (type) {
      case "messageStart":
        out.push({ type: "start", id: this.requestId, model: this.model });
        break;
      case "contentBlockStart": {
        const start = isObject(d.start) ? d.start : {};
        if (isObject(start.toolUse)) {
          const index = this.open(Number(d.contentBlockIndex), null);
          out.push({ type: "part_start", index, kind: "tool_call", id: String(start.toolUse.toolUseId ?? ""), name: String(start.toolUse.name ?? "") });
        }
        break;
      }
      case "contentBlockDelta": {
        const delta = isObject(d.delta) ? d.delta : {};
        const at = Number(d.contentBlockIndex);
        if (typeof delta.text === "string") out.push({ type: "text", index: this.open(at, "text"), text: delta.text });
        else if (isObject(delta.toolUse)) {
          const index = this.parts[at];
          if (index !== undefined) out.push({ type: "args", index, json: String(delta.toolUse.input ?? "") });
        } else if (isObject(delta.reasoningContent)) {
          const r = delta.reasoningContent;
          const index = this.open(at, "thinking");
          if (typeof r.text === "string") out.push({ type: "thinking", index, text: r.text });
          if (typeof r.signature === "string") out.push({ type: "signature", index, signature: r.signature, origin: "anthropic" });
        }
        break;
      }
      case "contentBlockStop": {
        const index = this.parts[Number(d.contentBlockIndex)];
        if (index !== undefined) out.push({ type: "part_stop", index });
        break;
      }
      case "messageStop":
        out.push({ type: "stop", reason: converseStop(d.stopReason) });
        break;
      case "metadata":
        out.push({ type: "usage", usage: converseUsage(d.usage) });
        this.done = true;
        break;
    }
  }

  /** The canonical index of a Converse block, opening it (with a part_start) when first seen. */
  private open(at: number, kind: "text" | "thinking" | null): number {
    const known = this.parts[at];
    if (known !== undefined) return known;
    const index = this.next++;
    this.parts[at] = index;
    if (kind) this.events.push({ type: "part_start", index, kind });
    return index;
  }
}
