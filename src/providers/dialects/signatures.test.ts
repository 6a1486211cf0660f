/**
 * Signed reasoning survives translation round trips (translation.md §2.6, pitfalls 9 and 13): a
 * provider's signature reaches a caller of another dialect in a field that caller replays
 * unchanged, tagged with its origin, and goes back to that provider exactly as it wrote it, on the
 * part it signed and in order; it is never sent to another provider.
 */
import { describe, expect, it } from "vitest";
import { CODECS, type CodecDialect, type Json, type StreamEvent } from "./index.js";

const ctx = { model: "upstream-model", maxOutputTokens: 4096 };
const TOOL = { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } };

/** An Anthropic answer: thinking (signed), redacted thinking, then a tool call. */
const ANTHROPIC_ANSWER: Json = {
  id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-6", stop_reason: "tool_use",
  usage: { input_tokens: 10, output_tokens: 5 },
  content: [
    { type: "thinking", thinking: "The user wants weather.", signature: "EqQBCkYIARgCKkBsigA==" },
    { type: "redacted_thinking", data: "EmwKAhgBEgy3redacted" },
    { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
  ],
};

/** A Gemini 3 answer: a function call carrying its thought signature. */
const GEMINI_ANSWER: Json = {
  responseId: "r1", modelVersion: "gemini-3-pro-preview",
  candidates: [{ index: 0, finishReason: "STOP", content: { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBgsig/gemini==" }] } }],
  usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
};

/** The answer as the caller's SDK would hold it, replayed in the caller's next request with a tool result. */
function nextRequest(caller: CodecDialect, answer: Json): Json {
  switch (caller) {
    case "anthropic": {
      const content = answer.content as Json[];
      const call = content.find((b) => b.type === "tool_use")!;
      return {
        model: "m", max_tokens: 100, tools: [TOOL],
        messages: [{ role: "user", content: "Weather?" }, { role: "assistant", content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] }],
      };
    }
    case "responses": {
      const output = answer.output as Json[];
      const call = output.find((o) => o.type === "function_call")!;
      return {
        model: "m", tools: [{ type: "function", name: "get_weather", parameters: TOOL.input_schema }], include: ["reasoning.encrypted_content"],
        input: [{ role: "user", content: "Weather?" }, ...output, { type: "function_call_output", call_id: call.call_id, output: "18C" }],
      };
    }
    case "chat": {
      const message = (answer.choices as Json[])[0]!.message as Json;
      const call = (message.tool_calls as Json[])[0]!;
      return {
        model: "m", tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL.input_schema } }],
        messages: [{ role: "user", content: "Weather?" }, message, { role: "tool", tool_call_id: call.id, content: "18C" }],
      };
    }
    case "gemini": {
      const content = (answer.candidates as Json[])[0]!.content as Json;
      const call = (content.parts as Json[]).find((p) => p.functionCall)!.functionCall as Json;
      return {
        tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: TOOL.input_schema }] }],
        contents: [{ role: "user", parts: [{ text: "Weather?" }] }, content, { role: "user", parts: [{ functionResponse: { id: call.id, name: "get_weather", response: { output: "18C" } } }] }],
      };
    }
    default: throw new Error(caller);
  }
}

/** One turn through the gateway's codecs: the upstream's answer to the caller, and the caller's next request upstream. */
function roundTrip(upstream: CodecDialect, caller: CodecDialect, answer: Json): { seen: Json; sent: Json } {
  const seen = CODECS[caller].encodeResponse(CODECS[upstream].decodeResponse(answer), "m");
  const sent = CODECS[upstream].encodeRequest(CODECS[caller].decodeRequest(nextRequest(caller, seen), upstream), ctx);
  return { seen, sent };
}

const assistantTurn = (sent: Json) => (sent.messages as Json[]).find((m) => m.role === "assistant")!.content as Json[];
const modelTurn = (sent: Json) => (sent.contents as Json[]).find((c) => c.role === "model")!.parts as Json[];

describe("Anthropic thinking through Gemini and Responses callers", () => {
  for (const caller of ["gemini", "responses"] as const) {
    it(`${caller}: the thinking blocks go back to Anthropic unmodified, in order, before the tool call`, () => {
      const { seen, sent } = roundTrip("anthropic", caller, ANTHROPIC_ANSWER);
      expect(JSON.stringify(seen)).toContain("latchkey.anthropic.EqQBCkYIARgCKkBsigA==");
      expect(assistantTurn(sent)).toEqual([
        { type: "thinking", thinking: "The user wants weather.", signature: "EqQBCkYIARgCKkBsigA==" },
        { type: "redacted_thinking", data: "EmwKAhgBEgy3redacted" },
        { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
      ]);
    });
  }

  it("a Gemini caller sees the thoughts as thought parts (text shown, signature tagged)", () => {
    const parts = (CODECS.gemini.encodeResponse(CODECS.anthropic.decodeResponse(ANTHROPIC_ANSWER), "m").candidates as Json[])[0]!.content as Json;
    expect((parts.parts as Json[])[0]).toEqual({ text: "The user wants weather.", thought: true, thoughtSignature: "latchkey.anthropic.EqQBCkYIARgCKkBsigA==" });
  });
});

describe("Gemini thought signatures through Anthropic and Responses callers", () => {
  for (const caller of ["anthropic", "responses", "chat"] as const) {
    it(`${caller}: the signature goes back on the function call it signed`, () => {
      const { seen, sent } = roundTrip("gemini", caller, GEMINI_ANSWER);
      expect(JSON.stringify(seen)).toContain("latchkey.gemini.CiQBgsig/gemini==");
      const parts = modelTurn(sent);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toMatchObject({ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBgsig/gemini==" });
    });
  }

  it("an Anthropic caller gets a thinking block before the tool call, which the SDK replays", () => {
    const seen = CODECS.anthropic.encodeResponse(CODECS.gemini.decodeResponse(GEMINI_ANSWER), "m");
    expect((seen.content as Json[]).map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    expect((seen.content as Json[])[0]).toEqual({ type: "thinking", thinking: "", signature: "latchkey.gemini.CiQBgsig/gemini==" });
  });
});

describe("signatures never reach another provider", () => {
  it("Anthropic drops a Gemini-signed thought; Gemini drops an Anthropic-signed one", () => {
    const toAnthropic = CODECS.anthropic.encodeRequest(CODECS.anthropic.decodeRequest({
      model: "m", max_tokens: 10, messages: [{ role: "user", content: "q" }, { role: "assistant", content: [{ type: "thinking", thinking: "", signature: "latchkey.gemini.abc" }, { type: "text", text: "a" }] }],
    }, "anthropic"), ctx);
    expect(assistantTurn(toAnthropic)).toEqual([{ type: "text", text: "a" }]);
    const toGemini = CODECS.gemini.encodeRequest(CODECS.anthropic.decodeRequest({
      model: "m", max_tokens: 10, messages: [{ role: "user", content: "q" }, { role: "assistant", content: [{ type: "thinking", thinking: "t", signature: "EqQBsig" }, { type: "text", text: "a" }] }],
    }, "gemini"), ctx);
    expect(modelTurn(toGemini)).toEqual([{ text: "a" }]);
  });

  it("an OpenAI model's own encrypted reasoning is not sent to another provider", () => {
    const sent = CODECS.anthropic.encodeRequest(CODECS.responses.decodeRequest({
      model: "m", input: [{ role: "user", content: "q" }, { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAAAopenai" }, { role: "assistant", content: "a" }],
    }, "anthropic"), ctx);
    expect(assistantTurn(sent)).toEqual([{ type: "text", text: "a" }]);
  });
});

describe("streams", () => {
  const encodeAll = (d: CodecDialect, events: StreamEvent[]) => {
    const enc = CODECS[d].newStreamEncoder({ model: "m", includeUsage: false, sse: true, requestId: "req_1" });
    return events.map((e) => enc.encode(e)).join("") + enc.end(true);
  };
  const decodeAll = (d: CodecDialect, wire: string) => {
    const dec = CODECS[d].newStreamDecoder();
    return [...dec.push(Buffer.from(wire)), ...dec.end()];
  };
  const anthropicStream = [
    { type: "message_start", message: { id: "msg_1", model: "claude", content: [], usage: { input_tokens: 5, output_tokens: 1 } } },
    { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } },
    { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqStreamSig==" } },
    { type: "content_block_stop", index: 0 },
    { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} } },
    { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{\"city\":\"Paris\"}" } },
    { type: "content_block_stop", index: 1 },
    { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 7 } },
    { type: "message_stop" },
  ].map((d) => `event: ${d.type}\ndata: ${JSON.stringify(d)}\n\n`).join("");
  const geminiStream = `data: ${JSON.stringify({ responseId: "r1", candidates: [{ index: 0, content: { role: "model", parts: [{ text: "Thinking…", thought: true }] } }] })}\n\n`
    + `data: ${JSON.stringify({ responseId: "r1", candidates: [{ index: 0, finishReason: "STOP", content: { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBstream==" }] } }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4 } })}\n\n`;

  it("an Anthropic stream's signature reaches a Gemini caller and a Responses caller, tagged", () => {
    const events = decodeAll("anthropic", anthropicStream);
    expect(encodeAll("gemini", events)).toContain("\"thoughtSignature\":\"latchkey.anthropic.EqStreamSig==\"");
    const r = decodeAll("responses", encodeAll("responses", events));
    expect(r.some((e) => e.type === "thinking" && e.text === "Hmm.")).toBe(true);
    const done = encodeAll("responses", events).split("\n").filter((l) => l.includes("\"response.output_item.done\"")).map((l) => JSON.parse(l.slice(6)) as { item: Json });
    expect(done[0]!.item).toMatchObject({ type: "reasoning", encrypted_content: "latchkey.anthropic.EqStreamSig==", summary: [{ type: "summary_text", text: "Hmm." }] });
  });

  it("a Gemini stream's signature reaches a Chat caller on the tool call, where Google's OpenAI-compatible API puts it", () => {
    const frames = encodeAll("chat", decodeAll("gemini", geminiStream)).split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)) as Json);
    const calls = frames.flatMap((f) => ((f.choices as Json[])[0]?.delta as Json | undefined)?.tool_calls as Json[] ?? []);
    expect(calls[0]).toMatchObject({ id: expect.any(String), extra_content: { google: { thought_signature: "latchkey.gemini.CiQBstream==" } } });
  });

  it("a Gemini stream's signature reaches an Anthropic caller as a thinking block before the tool call", () => {
    const wire = encodeAll("anthropic", decodeAll("gemini", geminiStream));
    const frames = wire.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)) as Json);
    const starts = frames.filter((f) => f.type === "content_block_start").map((f) => (f.content_block as Json).type);
    expect(starts).toEqual(["thinking", "thinking", "tool_use"]);
    expect(frames.some((f) => f.type === "content_block_delta" && (f.delta as Json).signature === "latchkey.gemini.CiQBstream==")).toBe(true);
  });
});
