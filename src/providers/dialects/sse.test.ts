import { describe, expect, it } from "vitest";
import type { Json, StreamEvent } from "./canonical.js";
import { CODECS } from "./index.js";
import { SseJsonDecoder } from "./sse.js";

/** Hands back every parsed frame as a text event holding its JSON, so the skeleton alone is seen. */
class Frames extends SseJsonDecoder {
  protected frame(d: Json, out: StreamEvent[]): void {
    out.push({ type: "text", index: 0, text: JSON.stringify(d) });
  }
}

function read(wire: string | Buffer, split: number): string[] {
  const bytes = typeof wire === "string" ? Buffer.from(wire) : wire;
  const dec = new Frames();
  const out: StreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += split) out.push(...dec.push(new Uint8Array(bytes.subarray(i, i + split))));
  out.push(...dec.end());
  return out.map((e) => (e.type === "text" ? e.text : e.type));
}

const SPLITS = [1, 2, 3, 5, 1000];

describe("SSE decoding shared by the translated streams", () => {
  it("frames with and without an event line, comments, ids and data without its space are all read, at any split", () => {
    const wire = 'event: a\ndata: {"n":1}\n\ndata: {"n":2}\n\n: keep-alive\n\nid: 7\nevent: b\ndata:{"n":3}\n\nretry: 10\n\n';
    for (const split of SPLITS) expect(read(wire, split), `split ${split}`).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it("a frame's data lines are joined by new lines", () => {
    for (const split of SPLITS) expect(read('data: {"a":\ndata: [1,\ndata: 2]}\n\n', split)).toEqual(['{"a":[1,2]}']);
  });

  it("CRLF and CR end lines too, even when a CRLF is split between two chunks", () => {
    const lf = 'event: a\ndata: {"a":\ndata: 1}\n\ndata: {"b":2}\n\n';
    for (const eol of ["\r\n", "\r"]) {
      for (const split of SPLITS) expect(read(lf.replace(/\n/g, eol), split), `${JSON.stringify(eol)} split ${split}`).toEqual(['{"a":1}', '{"b":2}']);
    }
  });

  it("a character split between chunks is whole; one cut off by the end of the stream is replaced", () => {
    const wire = `data: ${JSON.stringify({ t: "é ü € 😀 — 中文" })}\n\n`;
    for (const split of SPLITS) expect(read(wire, split)).toEqual([JSON.stringify({ t: "é ü € 😀 — 中文" })]);
    const cut = Buffer.concat([Buffer.from('data: {"t":"a'), Buffer.from("😀").subarray(0, 2)]);
    for (const split of [1, 1000]) expect(read(Buffer.concat([cut, Buffer.from('"}')]), split)).toEqual(['{"t":"a\uFFFD"}']);
  });

  it("a last frame without its blank line still counts; a frame that is not JSON is skipped", () => {
    for (const split of SPLITS) expect(read('data: not json\n\ndata: {"last":true}', split)).toEqual(['{"last":true}']);
  });
});

describe("Anthropic stream decoding: frames read without a whole parse agree with a parse", () => {
  const frame = (type: string, data: unknown) => `event: ${type}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
  const start = frame("message_start", { type: "message_start", message: { id: "msg_1", model: "m", usage: { input_tokens: 5, output_tokens: 1 } } })
    + frame("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  const texts = ["plain", 'a "quoted" \\ back\\slash', "new\nline\ttab", "é 😀 \u2028", "", "}}"];

  it("text deltas in the compact form, escaped or not, and in other forms, come out as sent", () => {
    const compact = texts.map((text) => frame("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }));
    // Not the compact form: spaced, a field more, keys reordered. Read by the whole parse.
    const other = [
      frame("content_block_delta", '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "spaced"}}'),
      frame("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"extra","x":1}}'),
      frame("content_block_delta", '{"index":0,"type":"content_block_delta","delta":{"text":"reordered","type":"text_delta"}}'),
    ];
    const wire = start + compact.join("") + other.join("") + frame("content_block_stop", '{"type":"content_block_stop","index":0}')
      + frame("ping", '{"type":"ping"}')
      + frame("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } })
      + frame("message_stop", '{"type":"message_stop"}');
    for (const split of [1, 7, 100_000]) {
      const dec = CODECS.anthropic.newStreamDecoder();
      const bytes = Buffer.from(wire);
      const out: StreamEvent[] = [];
      for (let i = 0; i < bytes.length; i += split) out.push(...dec.push(bytes.subarray(i, i + split)));
      out.push(...dec.end());
      expect(out.filter((e) => e.type === "text").map((e) => (e.type === "text" ? e.text : "")), `split ${split}`).toEqual([...texts, "spaced", "extra", "reordered"]);
      expect(out.filter((e) => e.type === "part_stop")).toEqual([{ type: "part_stop", index: 0 }]);
      expect(out.at(-1)).toEqual({ type: "stop", reason: "end" });
      expect(dec.done).toBe(true);
    }
  });

  it("a compact-looking frame that is not valid JSON is skipped, not read as text", () => {
    const wire = start + frame("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"}}')
      + frame("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\"}}')
      + frame("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}');
    const dec = CODECS.anthropic.newStreamDecoder();
    expect(dec.push(Buffer.from(wire)).filter((e) => e.type === "text")).toEqual([{ type: "text", index: 0, text: "ok" }]);
  });
});
