import type { ErrorCode } from "../../../errors/index.js";
import { isObject, safeId, wrapSignature, type Json, type StreamEvent } from "../canonical.js";
import { openaiUsage } from "../chat/response.js";
import { SseJsonDecoder } from "../sse.js";
import { BaseStreamEncoder, type PartEvent } from "../stream-encoder.js";
import { itemId, responseObject, responsesStop } from "./response.js";

/** Responses API events → canonical events; argument deltas are keyed by item id, not call id. */
export class ResponsesStreamDecoder extends SseJsonDecoder {
  private readonly items = new Map<string, number>();
  private open = -1;
  private next = 0;
  private called = false;

  private begin(key: string, out: StreamEvent[], kind: "text" | "tool_call" | "thinking", id?: string, name?: string): number {
    this.close(out);
    const index = this.next++;
    this.items.set(key, index);
    this.open = index;
    out.push(kind === "tool_call" ? { type: "part_start", index, kind, id: id ?? "", name: name ?? "" } : { type: "part_start", index, kind });
    return index;
  }

  protected frame(d: Json, out: StreamEvent[]): void {
    const key = `${String(d.item_id ?? "")}`;
    switch (d.type) {
      case "response.created": {
        const r = isObject(d.response) ? d.response : {};
        out.push({ type: "start", id: String(r.id ?? ""), model: String(r.model ?? "") });
        break;
      }
      case "response.output_item.added": {
        const item = isObject(d.item) ? d.item : {};
        if (item.type === "function_call") {
          this.called = true;
          this.begin(String(item.id), out, "tool_call", String(item.call_id), String(item.name));
        } else if (item.type === "reasoning") this.begin(String(item.id), out, "thinking");
        break;
      }
      case "response.output_text.delta":
      case "response.refusal.delta": {
        const index = this.items.get(key) ?? this.begin(key, out, "text");
        out.push({ type: "text", index, text: String(d.delta ?? "") });
        break;
      }
      case "response.function_call_arguments.delta": {
        const index = this.items.get(key);
        if (index !== undefined) out.push({ type: "args", index, json: String(d.delta ?? "") });
        break;
      }
      case "response.reasoning_summary_text.delta": {
        const index = this.items.get(key) ?? this.begin(key, out, "thinking");
        out.push({ type: "thinking", index, text: String(d.delta ?? "") });
        break;
      }
      case "response.output_item.done": {
        const item = isObject(d.item) ? d.item : {};
        if (this.items.get(String(item.id)) === this.open) this.close(out);
        break;
      }
      case "response.completed":
      case "response.incomplete": {
        this.close(out);
        const r = isObject(d.response) ? d.response : {};
        out.push({ type: "usage", usage: openaiUsage(r.usage) });
        out.push({ type: "stop", reason: responsesStop(r, this.called) });
        this.done = true;
        break;
      }
      case "response.failed":
      case "error": {
        const r = isObject(d.response) && isObject(d.response.error) ? d.response.error : d;
        out.push({ type: "error", code: "upstream_error", message: String(r.message ?? "The provider failed.") });
        this.done = true;
        break;
      }
    }
  }

  private close(out: StreamEvent[]): void {
    if (this.open >= 0) out.push({ type: "part_stop", index: this.open });
    this.open = -1;
  }
}

/**
 * Canonical events → Responses API events, each with a rising sequence_number; the last carries
 * every item. Frames are written from templates and finished items kept as JSON text: objects
 * stringified event by event cost a translated stream more than the rest of its codec work.
 */
export class ResponsesStreamEncoder extends BaseStreamEncoder {
  readonly contentType = "text/event-stream; charset=utf-8";
  private seq = 0;
  private id = "";
  /** Finished output items, as JSON. */
  private readonly output: string[] = [];
  private item: Json | null = null;
  /** The open item's `"item_id":…,"output_index":…` fields, written once. */
  private at = "";
  private buf = "";

  protected opening(id: string): string {
    this.id = id.startsWith("resp_") ? id : `resp_${id}`;
    // The same in-progress Response opens both events: stringified once.
    const response = JSON.stringify(responseObject(this.id, this.model, [], null, null));
    return this.raw("response.created", `"response":${response}`) + this.raw("response.in_progress", `"response":${response}`);
  }

  protected part(ev: PartEvent): string {
    switch (ev.type) {
      case "part_start": return this.close() + this.open(ev.kind, ev.id ?? "", ev.name ?? "");
      case "text": {
        const out = !this.item || this.item.type !== "message" ? this.close() + this.open("text", "", "") : "";
        this.buf += ev.text;
        return out + this.raw("response.output_text.delta", `${this.at},"content_index":0,"delta":${JSON.stringify(ev.text)},"logprobs":[]`);
      }
      case "args":
        this.buf += ev.json;
        return this.item?.type === "function_call" ? this.raw("response.function_call_arguments.delta", `${this.at},"delta":${JSON.stringify(ev.json)}`) : "";
      case "thinking": {
        if (this.item?.type !== "reasoning" || ev.text === "") return "";
        // The summary part opens with the first text: a reasoning item may be only a signature.
        const out = this.buf === "" ? this.raw("response.reasoning_summary_part.added", `${this.at},"summary_index":0,"part":{"type":"summary_text","text":""}`) : "";
        this.buf += ev.text;
        return out + this.raw("response.reasoning_summary_text.delta", `${this.at},"summary_index":0,"delta":${JSON.stringify(ev.text)}`);
      }
      case "signature":
        // Another provider's signature rides in encrypted_content, sent with the item when it is done.
        if (this.item?.type === "reasoning") this.item.encrypted_content = wrapSignature("responses", ev.origin, ev.signature, ev.redacted);
        return "";
      case "part_stop": return this.close();
    }
  }

  protected closing(): string {
    const out = this.close();
    const stop = this.stop === "tool_use" || this.stop === "stop_sequence" ? "end" : this.stop;
    const response = responseObject(this.id, this.model, [], this.usage, stop);
    // The items are JSON already: spliced into the Response's empty output (the first
    // `"output":[]` in its text, since id and model before it are escaped strings).
    const text = JSON.stringify(response).replace('"output":[]', `"output":[${this.output.join(",")}]`);
    return out + this.raw(response.status === "completed" ? "response.completed" : "response.incomplete", `"response":${text}`);
  }

  protected failure(code: ErrorCode, message: string): string {
    return this.raw("error", `"code":${code === "rate_limited" ? '"rate_limit_exceeded"' : '"server_error"'},"message":${JSON.stringify(message)},"param":null`);
  }

  private raw(type: string, fields: string): string {
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.seq++},${fields}}\n\n`;
  }

  private open(kind: "text" | "tool_call" | "thinking", callId: string, name: string): string {
    this.buf = "";
    const id = itemId(kind === "text" ? "msg" : kind === "tool_call" ? "fc" : "rs");
    const n = this.output.length;
    this.at = `"item_id":"${id}","output_index":${n}`;
    if (kind === "text") {
      this.item = { type: "message", id };
      return this.raw("response.output_item.added", `"output_index":${n},"item":{"type":"message","id":"${id}","status":"in_progress","role":"assistant","content":[]}`)
        + this.raw("response.content_part.added", `${this.at},"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}`);
    }
    this.item = kind === "tool_call" ? { type: "function_call", id, call_id: safeId(callId), name, arguments: "", status: "in_progress" }
      : { type: "reasoning", id, summary: [] };
    return this.raw("response.output_item.added", `"output_index":${n},"item":${JSON.stringify(this.item)}`);
  }

  private close(): string {
    const item = this.item;
    if (!item) return "";
    const n = this.output.length;
    const text = JSON.stringify(this.buf);
    let out = "";
    let json: string;
    if (item.type === "message") {
      const part = `{"type":"output_text","text":${text},"annotations":[]}`;
      out += this.raw("response.output_text.done", `${this.at},"content_index":0,"text":${text},"logprobs":[]`);
      out += this.raw("response.content_part.done", `${this.at},"content_index":0,"part":${part}`);
      json = `{"type":"message","id":"${String(item.id)}","status":"completed","role":"assistant","content":[${part}]}`;
    } else if (item.type === "function_call") {
      item.arguments = this.buf;
      item.status = "completed";
      out += this.raw("response.function_call_arguments.done", `${this.at},"name":${JSON.stringify(item.name)},"arguments":${text}`);
      json = JSON.stringify(item);
    } else {
      if (this.buf !== "") {
        const part = `{"type":"summary_text","text":${text}}`;
        out += this.raw("response.reasoning_summary_text.done", `${this.at},"summary_index":0,"text":${text}`);
        out += this.raw("response.reasoning_summary_part.done", `${this.at},"summary_index":0,"part":${part}`);
        item.summary = [{ type: "summary_text", text: this.buf }];
      }
      json = JSON.stringify(item);
    }
    out += this.raw("response.output_item.done", `"output_index":${n},"item":${json}`);
    this.output.push(json);
    this.item = null;
    return out;
  }
}
