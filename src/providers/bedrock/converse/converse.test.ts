import { EventStreamCodec } from "@smithy/core/event-streams";
import { describe, expect, it } from "vitest";
import { emptyRequest, TranslationError, type CanonicalRequest } from "../../dialects/canonical.js";
import { encodeConverseRequest } from "./request.js";
import { ConverseJsonToAnthropic } from "./response.js";
import { ConverseStreamToSse } from "./stream.js";

const codec = new EventStreamCodec((b) => Buffer.from(b).toString("utf8"), (s) => Buffer.from(s, "utf8"));
const frame = (type: string, data: unknown, kind = "event"): Buffer => Buffer.from(codec.encode({
  headers: kind === "event"
    ? { ":event-type": { type: "string", value: type }, ":message-type": { type: "string", value: "event" }, ":content-type": { type: "string", value: "application/json" } }
    : { ":exception-type": { type: "string", value: type }, ":message-type": { type: "string", value: "exception" }, ":content-type": { type: "string", value: "application/json" } },
  body: Buffer.from(JSON.stringify(data)),
}));

const TOOL = { name: "get_weather", description: "weather", schema: { type: "object", properties: { city: { type: "string" } } } };
const TOOL_TURNS: CanonicalRequest["messages"] = [
  { role: "user", parts: [{ type: "text", text: "weather?" }] },
  { role: "assistant", parts: [{ type: "tool_call", id: "call_1", name: "get_weather", args: { city: "Oslo" } }] },
  { role: "user", parts: [{ type: "tool_result", id: "call_1", content: [{ type: "text", text: "sunny" }], isError: false }] },
];

function request(over: Partial<CanonicalRequest>): CanonicalRequest {
  return { ...emptyRequest("m"), messages: [{ role: "user", parts: [{ type: "text", text: "hi" }] }], ...over };
}

/** Parses SSE text into (event, data) pairs. */
function events(text: string): [string, Record<string, unknown>][] {
  return text.split("\n\n").filter(Boolean).map((block) => {
    const [e, d] = block.split("\n");
    return [e!.slice(7), JSON.parse(d!.slice(6)) as Record<string, unknown>];
  });
}

describe("Converse request", () => {
  it("puts the system, sampling, tools and a tool round trip in Converse's shape, merging turns", () => {
    const body = encodeConverseRequest(request({
      system: "be brief", temperature: 0.2, topP: 0.9, stop: ["END"], maxTokens: 50,
      tools: [{ name: "get_weather", description: "weather", schema: { type: "object", properties: { city: { type: "string" } } } }],
      toolChoice: { type: "tool", name: "get_weather" },
      messages: [
        { role: "user", parts: [{ type: "text", text: "weather?" }] },
        { role: "assistant", parts: [{ type: "tool_call", id: "call_1", name: "get_weather", args: { city: "Oslo" } }] },
        { role: "user", parts: [{ type: "tool_result", id: "call_1", content: [{ type: "text", text: "sunny" }], isError: false }] },
        { role: "user", parts: [{ type: "text", text: "and?" }] },
      ],
    }), "mistral.mistral-large-2407-v1:0", 8192);
    expect(body).toEqual({
      system: [{ text: "be brief" }],
      inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ["END"] },
      toolConfig: { tools: [{ toolSpec: { name: "get_weather", description: "weather", inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } } } }], toolChoice: { tool: { name: "get_weather" } } },
      messages: [
        { role: "user", content: [{ text: "weather?" }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: "call_1", name: "get_weather", input: { city: "Oslo" } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: "call_1", content: [{ text: "sunny" }], status: "success" } }, { text: "and?" }] },
      ],
    });
  });

  it("carries Anthropic's own fields for Anthropic models only, and refuses by name what Converse cannot take", () => {
    const claude = encodeConverseRequest(request({ topK: 5, reasoning: { budget: 2000 }, maxTokens: 100 }), "us.anthropic.claude-haiku-4-5-20251001-v1:0", 8192);
    expect(claude.additionalModelRequestFields).toEqual({ top_k: 5, thinking: { type: "enabled", budget_tokens: 2000 } });
    expect((claude.inferenceConfig as { maxTokens: number }).maxTokens).toBe(2100);
    const refusals: [Partial<CanonicalRequest>, string][] = [
      [{ topK: 5 }, "top_k"], [{ reasoning: { effort: "high" } }, "reasoning"], [{ output: { type: "json" } }, "response_format json_object"],
      [{ parallelToolCalls: false, tools: [TOOL] }, "parallel_tool_calls false"],
      [{ toolChoice: { type: "none" }, tools: [TOOL], messages: TOOL_TURNS }, "tool_choice none"],
      [{ messages: [{ role: "user", parts: [{ type: "image", mediaType: "image/png", url: "https://example.com/a.png" }] }] }, "an image by URL in content"],
    ];
    for (const [over, param] of refusals) {
      let caught: unknown;
      try {
        encodeConverseRequest(request(over), "meta.llama3-3-70b-instruct-v1:0", 8192);
      } catch (err) {
        caught = err;
      }
      expect(caught, param).toBeInstanceOf(TranslationError);
      expect((caught as TranslationError).param).toBe(param);
    }
  });
});

describe("Converse request: what it maps rather than refuses", () => {
  it("sends structured output as outputConfig.textFormat, the schema as a JSON string under a plain name", () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const body = encodeConverseRequest(request({ output: { type: "json_schema", name: "the city!", schema } }), "mistral.mistral-large-2407-v1:0", 8192);
    expect(body.outputConfig).toEqual({ textFormat: { type: "json_schema", structure: { jsonSchema: { schema: JSON.stringify(schema), name: "the_city_" } } } });
  });

  it("honours tool_choice none by declaring no tools while no turn holds a tool call, and parallel_tool_calls false when no tools are sent", () => {
    const none = encodeConverseRequest(request({ toolChoice: { type: "none" }, tools: [TOOL], parallelToolCalls: false }), "mistral.mistral-large-2407-v1:0", 8192);
    expect(none.toolConfig).toBeUndefined();
    const toolless = encodeConverseRequest(request({ parallelToolCalls: false }), "mistral.mistral-large-2407-v1:0", 8192);
    expect(toolless.toolConfig).toBeUndefined();
  });
});

describe("Converse answers as Anthropic Messages", () => {
  it("rewrites a JSON answer, usage with cached tokens apart", () => {
    const r = new ConverseJsonToAnthropic("claude-haiku-4-5", "req_1");
    const answer = Buffer.from(JSON.stringify({
      output: { message: { role: "assistant", content: [{ text: "Hi" }, { toolUse: { toolUseId: "t1", name: "f", input: { a: 1 } } }] } },
      stopReason: "tool_use", usage: { inputTokens: 10, outputTokens: 4, totalTokens: 19, cacheReadInputTokens: 5 },
    }));
    expect(r.push(answer.subarray(0, 20)).length).toBe(0);
    expect(r.push(answer.subarray(20)).length).toBe(0);
    const out = JSON.parse(r.end().toString("utf8")) as Record<string, unknown>;
    expect(out).toMatchObject({
      id: "msg_req_1", type: "message", role: "assistant", model: "claude-haiku-4-5", stop_reason: "tool_use",
      content: [{ type: "text", text: "Hi" }, { type: "tool_use", id: "t1", name: "f", input: { a: 1 } }],
      usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 5, cache_creation_input_tokens: 0 },
    });
    expect(r.failed).toBeNull();
  });

  it("rewrites a stream split anywhere, opening text blocks on their first delta and ending with the metadata usage", () => {
    const bytes = Buffer.concat([
      frame("messageStart", { role: "assistant" }),
      frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hel" } }),
      frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "lo" } }),
      frame("contentBlockStop", { contentBlockIndex: 0 }),
      frame("contentBlockStart", { contentBlockIndex: 1, start: { toolUse: { toolUseId: "t1", name: "f" } } }),
      frame("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: "{\"a\":" } } }),
      frame("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: "1}" } } }),
      frame("contentBlockStop", { contentBlockIndex: 1 }),
      frame("messageStop", { stopReason: "tool_use" }),
      frame("metadata", { usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 }, metrics: { latencyMs: 5 }, p: "abc" }),
    ]);
    const r = new ConverseStreamToSse("mistral-large", "req_2");
    let text = "";
    for (let i = 0; i < bytes.length; i += 13) text += r.push(bytes.subarray(i, i + 13)).toString("utf8");
    text += r.end().toString("utf8");
    const ev = events(text);
    expect(ev.map(([e]) => e)).toEqual([
      "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
    ]);
    expect(ev[5]![1]).toMatchObject({ content_block: { type: "tool_use", id: "t1", name: "f" } });
    expect(ev[9]![1]).toMatchObject({ delta: { stop_reason: "tool_use" }, usage: { input_tokens: 7, output_tokens: 3 } });
  });

  it("turns an exception frame into Anthropic's in-band error, and a stream cut before its metadata into one too", () => {
    const r = new ConverseStreamToSse("m", "req_3");
    const text = r.push(Buffer.concat([frame("messageStart", { role: "assistant" }), frame("throttlingException", { message: "slow down" }, "exception")])).toString("utf8");
    expect(events(text).at(-1)).toEqual(["error", { type: "error", error: { type: "rate_limit_error", message: "slow down" }, request_id: "req_3" }]);
    const cut = new ConverseStreamToSse("m", "req_4");
    const head = cut.push(frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "x" } })).toString("utf8");
    const tail = cut.end().toString("utf8");
    expect(events(head + tail).at(-1)![0]).toBe("error");
  });
});
