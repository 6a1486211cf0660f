import { describe, expect, it } from "vitest";
import { CODECS, safeId, TranslationError, type CanonicalRequest, type CodecDialect } from "./index.js";

const CTX = { model: "target-model", maxOutputTokens: 4096 };

/** A conversation with a system prompt, an image, a tool call and its result, tools and JSON output. */
const OPENAI_BODY = {
  model: "claude-sonnet-4-6",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] },
    { role: "assistant", content: null, tool_calls: [{ id: "functions.get:0", type: "function", function: { name: "get", arguments: "{\"city\":\"Paris\"}" } }] },
    { role: "tool", tool_call_id: "functions.get:0", content: "18C" },
    { role: "tool", tool_call_id: "call_2", content: "dry" },
  ],
  tools: [{ type: "function", function: { name: "get", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
  tool_choice: "required",
  max_completion_tokens: 300,
  temperature: 0.5,
};

function decode(d: CodecDialect, body: Record<string, unknown>): CanonicalRequest {
  return CODECS[d].decodeRequest(body, "target");
}

function refusal(f: () => unknown): TranslationError {
  try {
    f();
  } catch (err) {
    if (err instanceof TranslationError) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("request codecs", () => {
  it("chat → anthropic: system moves to the top, tool results merge into one user turn, ids are sanitised alike", () => {
    const a = CODECS.anthropic.encodeRequest(decode("chat", OPENAI_BODY), CTX) as any;
    expect(a.system).toBe("Be brief.");
    expect(a.max_tokens).toBe(300);
    expect(a.tool_choice).toEqual({ type: "any" });
    expect(a.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(a.messages[0].content[1]).toEqual({ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } });
    const call = a.messages[1].content[0];
    expect(call).toMatchObject({ type: "tool_use", name: "get", input: { city: "Paris" } });
    expect(call.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a.messages[2].content.map((b: any) => b.tool_use_id)).toEqual([call.id, "call_2"]);
    expect(call.id).toBe(safeId("functions.get:0"));
  });

  it("anthropic → gemini: tool results carry the name of their call; thinking budget becomes thinkingBudget", () => {
    const body = {
      model: "gemini-2.5-flash", max_tokens: 2000, system: [{ type: "text", text: "S" }], thinking: { type: "enabled", budget_tokens: 1500 },
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "thinking", thinking: "hmm", signature: "sig" }, { type: "tool_use", id: "toolu_1", name: "look", input: { q: 1 } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "found", is_error: true }] },
      ],
    };
    const g = CODECS.gemini.encodeRequest(decode("anthropic", body), CTX) as any;
    expect(g.systemInstruction).toEqual({ parts: [{ text: "S" }] });
    expect(g.generationConfig).toMatchObject({ maxOutputTokens: 2000, thinkingConfig: { thinkingBudget: 1500, includeThoughts: true } });
    expect(g.contents[1]).toEqual({ role: "model", parts: [{ functionCall: { id: "toolu_1", name: "look", args: { q: 1 } } }] });
    expect(g.contents[2].parts[0]).toEqual({ functionResponse: { id: "toolu_1", name: "look", response: { error: "found" } } });
  });

  it("gemini → chat: calls without ids get one, and their results are paired by name in order", () => {
    const body = {
      contents: [
        { role: "user", parts: [{ text: "go" }] },
        { role: "model", parts: [{ functionCall: { name: "a", args: {} } }, { functionCall: { name: "a", args: { n: 2 } } }] },
        { role: "user", parts: [{ functionResponse: { name: "a", response: { output: "one" } } }, { functionResponse: { name: "a", response: { output: "two" } } }] },
      ],
      generationConfig: { responseMimeType: "application/json", responseSchema: { type: "OBJECT", properties: { x: { type: "STRING", nullable: true } } } },
    };
    const o = CODECS.chat.encodeRequest(decode("gemini", body), CTX) as any;
    const ids = o.messages[1].tool_calls.map((t: any) => t.id);
    expect(new Set(ids).size).toBe(2);
    expect(o.messages.slice(2).map((m: any) => [m.tool_call_id, m.content])).toEqual([[ids[0], "one"], [ids[1], "two"]]);
    expect(o.response_format.json_schema.schema).toEqual({ type: "object", properties: { x: { type: ["string", "null"] } } });
  });

  it("gemini: snake_case field names (proto JSON, sent by the Python SDK) are read like camelCase, and schemas keep their own keys", () => {
    const body = {
      contents: [{ role: "user", parts: [{ text: "x" }] }], system_instruction: { parts: [{ text: "S" }] }, generation_config: { max_output_tokens: 9 },
      tools: [{ function_declarations: [{ name: "f", parameters_json_schema: { type: "object", properties: { city_name: { type: "string" } } } }] }],
    };
    const r = decode("gemini", body);
    expect(r).toMatchObject({ system: "S", maxTokens: 9 });
    expect(r.tools[0]!.schema).toEqual({ type: "object", properties: { city_name: { type: "string" } } });
  });

  it("responses → anthropic and back to responses: function calls and outputs keep their pairing", () => {
    const body = {
      model: "x", instructions: "I", input: [
        { role: "user", content: "q" },
        { type: "function_call", call_id: "call_9", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "call_9", output: "r" },
      ], text: { format: { type: "json_schema", name: "o", schema: { type: "object" } } },
    };
    const a = CODECS.anthropic.encodeRequest(decode("responses", body), CTX) as any;
    expect(a.output_config).toEqual({ format: { type: "json_schema", schema: { type: "object" } } });
    expect(a.messages[2].content[0]).toMatchObject({ type: "tool_result", tool_use_id: "call_9" });
    const r = CODECS.responses.encodeRequest(decode("anthropic", a), CTX) as any;
    expect(r.input.map((i: any) => i.type ?? i.role)).toEqual(["user", "function_call", "function_call_output"]);
    expect(r.instructions).toBe("I");
    expect(r.store).toBe(false);
  });

  it("a streamed chat call asks its upstream for usage (include_usage) whatever the caller asked", () => {
    const r = decode("anthropic", { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }], stream: true });
    expect(CODECS.chat.encodeRequest(r, CTX)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });
});

describe("what must not happen: parameters the target cannot honour are refused by name, never dropped", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["top_k into Chat", () => CODECS.chat.encodeRequest(decode("anthropic", { model: "m", max_tokens: 5, top_k: 3, messages: [] }), CTX), /^top_k/],
    ["n > 1", () => decode("chat", { model: "m", n: 2, messages: [] }), /^n$/],
    ["seed (unmapped)", () => decode("chat", { model: "m", seed: 1, messages: [] }), /^seed$/],
    ["temperature above 1 into Anthropic", () => CODECS.anthropic.encodeRequest(decode("chat", { model: "m", temperature: 1.5, messages: [] }), CTX), /^temperature/],
    ["json_object into Anthropic", () => CODECS.anthropic.encodeRequest(decode("chat", { model: "m", response_format: { type: "json_object" }, messages: [] }), CTX), /^response_format/],
    ["previous_response_id", () => decode("responses", { model: "m", input: "x", previous_response_id: "resp_1" }), /^previous_response_id$/],
    ["a server tool", () => decode("anthropic", { model: "m", max_tokens: 5, tools: [{ type: "web_search_20250305", name: "web_search" }], messages: [] }), /^tools\[0\]\.type/],
    ["parallel_tool_calls false into Gemini", () => CODECS.gemini.encodeRequest(decode("chat", { model: "m", parallel_tool_calls: false, messages: [] }), CTX), /^parallel_tool_calls/],
    ["an image URL into Gemini", () => CODECS.gemini.encodeRequest(decode("chat", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }] }), CTX), /^image url/],
    ["stop sequences into Responses", () => CODECS.responses.encodeRequest(decode("chat", { model: "m", stop: ["x"], messages: [] }), CTX), /^stop/],
    ["Gemini safety settings", () => decode("gemini", { contents: [], safetySettings: [] }), /^safetySettings$/],
    ["audio input", () => decode("chat", { model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }] }] }), /input_audio/],
  ];
  for (const [name, f, param] of cases) {
    it(name, () => {
      const e = refusal(f);
      expect(e.param).toMatch(param);
      expect(e.message).toContain(e.param);
    });
  }

  it("invalid tool arguments in history are refused, not sent on", () => {
    const body = { model: "m", messages: [{ role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{not json" } }] }] };
    expect(refusal(() => decode("chat", body)).param).toMatch(/arguments$/);
  });

  it("the id sanitiser keeps valid ids and maps others to the same short id every time", () => {
    expect(safeId("toolu_01A")).toBe("toolu_01A");
    const long = "x".repeat(80);
    expect(safeId(long)).toBe(safeId(long));
    expect(safeId(long)).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(safeId("functions.Bash:0")).not.toBe(safeId("functions.Bash:1"));
  });
});
