import { describe, expect, it } from "vitest";
import { CODECS, type CodecDialect, type StreamEvent } from "./index.js";

const ALL: CodecDialect[] = ["anthropic", "chat", "responses", "gemini"];

/** A reply with text, one tool call whose arguments come in pieces, usage with cache, and a tool stop. */
const EVENTS: StreamEvent[] = [
  { type: "start", id: "up_1", model: "m" },
  { type: "part_start", index: 0, kind: "text" },
  { type: "text", index: 0, text: "Let me " },
  { type: "text", index: 0, text: "check." },
  { type: "part_stop", index: 0 },
  { type: "part_start", index: 1, kind: "tool_call", id: "call_abc", name: "get_weather" },
  { type: "args", index: 1, json: "{\"city\":" },
  { type: "args", index: 1, json: "\"Paris\"}" },
  { type: "part_stop", index: 1 },
  { type: "usage", usage: { input: 120, cacheRead: 100, cacheWrite: 0, output: 30, reasoning: 0 } },
  { type: "stop", reason: "tool_use" },
];

/** Encodes events in one dialect, decodes them back, byte by byte to exercise split frames. */
function roundTrip(d: CodecDialect, events: StreamEvent[], split = 7): { events: StreamEvent[]; done: boolean; wire: string } {
  const enc = CODECS[d].newStreamEncoder({ model: "caller-model", includeUsage: true, sse: true, requestId: "req_1" });
  let wire = "";
  for (const ev of events) wire += enc.encode(ev);
  wire += enc.end(true);
  const dec = CODECS[d].newStreamDecoder();
  const bytes = Buffer.from(wire);
  const out: StreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += split) out.push(...dec.push(bytes.subarray(i, i + split)));
  out.push(...dec.end());
  return { events: out, done: dec.done, wire };
}

function summary(events: StreamEvent[]) {
  let text = "";
  let args = "";
  const tools: string[] = [];
  let usage = null;
  let stop = null;
  for (const e of events) {
    if (e.type === "text") text += e.text;
    if (e.type === "args") args += e.json;
    if (e.type === "part_start" && e.kind === "tool_call") tools.push(`${e.id}:${e.name}`);
    if (e.type === "usage") usage = e.usage;
    if (e.type === "stop") stop = e.reason;
  }
  return { text, args: args ? JSON.parse(args) : null, tools, usage, stop };
}

describe("stream codecs: every dialect's encoder is read back by its own decoder", () => {
  for (const d of ALL) {
    it(`${d}: text, a tool call with split arguments, usage with cache reads, and the tool stop survive`, () => {
      const { events, done } = roundTrip(d, EVENTS);
      expect(done).toBe(true);
      expect(summary(events)).toEqual({
        text: "Let me check.", args: { city: "Paris" }, tools: ["call_abc:get_weather"],
        usage: { input: 120, cacheRead: 100, cacheWrite: 0, output: 30, reasoning: 0 }, stop: "tool_use",
      });
      // Parts open and close in order, one at a time.
      const opened: number[] = [];
      for (const e of events) {
        if (e.type === "part_start") opened.push(e.index);
        if (e.type === "part_stop") expect(e.index).toBe(opened.at(-1));
      }
    });

    it(`${d}: a stream cut before its terminal event ends in the caller's in-band error, not a clean end`, () => {
      const enc = CODECS[d].newStreamEncoder({ model: "m", includeUsage: false, sse: true, requestId: "req_cut" });
      const wire = enc.encode(EVENTS[0]!) + enc.encode(EVENTS[1]!) + enc.encode(EVENTS[2]!) + enc.end(false);
      expect(wire).toMatch(/error/);
      expect(wire).not.toMatch(/message_stop|\[DONE\]|response\.completed|finishReason/);
      const dec = CODECS[d].newStreamDecoder();
      const out = [...dec.push(Buffer.from(wire)), ...dec.end()];
      expect(out.some((e) => e.type === "error")).toBe(true);
    });
  }

  for (const d of ALL) {
    it(`${d}: text with quotes, backslashes, new lines and non-ASCII comes back as sent`, () => {
      const text = 'say "hi" \\ now\nnext line — ünïcödé 🚀 {"a":1}';
      const events: StreamEvent[] = [EVENTS[0]!, EVENTS[1]!, { type: "text", index: 0, text }, EVENTS[4]!, { type: "stop", reason: "end" }];
      expect(summary(roundTrip(d, events, 3).events).text).toBe(text);
    });
  }

  it("chat: tool calls are numbered by their own ordinal, not the part index (text counted too)", () => {
    const { wire } = roundTrip("chat", EVENTS);
    const chunks = wire.split("\n\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
    const indexes = chunks.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? []).map((t: { index: number }) => t.index);
    expect(new Set(indexes)).toEqual(new Set([0]));
    expect(wire.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("chat: the usage chunk is written only when the caller asked for it", () => {
    const enc = CODECS.chat.newStreamEncoder({ model: "m", includeUsage: false, sse: true, requestId: "r" });
    const wire = EVENTS.map((e) => enc.encode(e)).join("") + enc.end(true);
    expect(wire).not.toMatch(/"usage"/);
  });

  it("anthropic: every frame has its event: line, and input usage (uncached) arrives in message_delta", () => {
    const { wire } = roundTrip("anthropic", EVENTS);
    for (const frame of wire.trim().split("\n\n")) expect(frame.startsWith("event: ")).toBe(true);
    const delta = wire.split("\n\n").find((f) => f.startsWith("event: message_delta"))!;
    expect(JSON.parse(delta.split("data: ")[1]!).usage).toEqual({ input_tokens: 20, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 });
  });

  it("gemini: the JSON-array framing is one valid array; tool arguments arrive whole", () => {
    const enc = CODECS.gemini.newStreamEncoder({ model: "m", includeUsage: false, sse: false, requestId: "r" });
    const wire = EVENTS.map((e) => enc.encode(e)).join("") + enc.end(true);
    const arr = JSON.parse(wire) as { candidates: { content: { parts: { functionCall?: { args: unknown } }[] } }[] }[];
    const call = arr.flatMap((c) => c.candidates[0]!.content.parts).find((p) => p.functionCall);
    expect(call!.functionCall!.args).toEqual({ city: "Paris" });
  });

  it("responses: sequence numbers rise by one and the completed event carries every item", () => {
    const { wire } = roundTrip("responses", EVENTS);
    const evs = wire.trim().split("\n\n").map((f) => JSON.parse(f.split("data: ")[1]!));
    evs.forEach((e, i) => expect(e.sequence_number).toBe(i));
    const done = evs.at(-1);
    expect(done.type).toBe("response.completed");
    expect(done.response.output.map((o: { type: string }) => o.type)).toEqual(["message", "function_call"]);
  });
});

describe("JSON response codecs", () => {
  for (const d of ALL) {
    it(`${d}: a response with text and a tool call round-trips`, () => {
      const r = { id: "x1", model: "m", parts: [{ type: "text" as const, text: "Hi" }, { type: "tool_call" as const, id: "call_1", name: "f", args: { a: 1 } }], stop: "tool_use" as const, usage: { input: 50, cacheRead: 10, cacheWrite: d === "anthropic" ? 5 : 0, output: 7, reasoning: 0 } };
      const back = CODECS[d].decodeResponse(CODECS[d].encodeResponse(r, "caller-model"));
      expect(back.parts).toEqual(r.parts);
      expect(back.stop).toBe("tool_use");
      expect(back.usage).toEqual(r.usage);
    });
  }
});
