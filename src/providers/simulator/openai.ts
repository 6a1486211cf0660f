import { chatToolCalls, responsesFunctionCall } from "./tool-calls.js";
import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";

/** POST /v1/chat/completions in OpenAI's shape, JSON or SSE (with `include_usage` honoured). */
export function simulateChat(call: SimCall): void {
  const { script, model, body } = call;
  if (call.tool) {
    chatToolCalls(call, call.tool, (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true);
    return;
  }
  const id = simId("chatcmpl-sim");
  const created = Math.floor(Date.now() / 1000);
  const finish = script.stopReason === "max_tokens" ? "length" : "stop";
  const usage = {
    prompt_tokens: script.inputTokens + script.cacheRead, completion_tokens: script.words.length,
    total_tokens: script.inputTokens + script.cacheRead + script.words.length,
    prompt_tokens_details: { cached_tokens: script.cacheRead, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
  if (!call.stream) {
    sendJson(call, {
      id, object: "chat.completion", created, model,
      choices: [{ index: 0, message: { role: "assistant", content: script.words.join(""), refusal: null }, logprobs: null, finish_reason: finish }],
      usage, service_tier: "default", system_fingerprint: null,
    });
    return;
  }
  const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseEvent(null, { id, object: "chat.completion.chunk", created, model, system_fingerprint: null, choices, ...(includeUsage ? { usage: null } : {}), ...extra });
  const events = [
    chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
    ...script.words.map((w) => chunk([{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]),
    ...(includeUsage ? [chunk([], { usage })] : []),
    "data: [DONE]\n\n",
  ];
  sendEvents(call, events);
}

/** POST /v1/embeddings: small deterministic vectors, as floats or base64 (the SDK's default). */
export function simulateEmbeddings(call: SimCall): void {
  const input = call.body.input;
  const items = Array.isArray(input) ? input : [input];
  const base64 = call.body.encoding_format === "base64";
  const data = items.map((item, index) => {
    const seed = String(item).length;
    const vector = Array.from({ length: 8 }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4);
    return { object: "embedding", index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector };
  });
  const tokens = call.script.inputTokens;
  sendJson(call, { object: "list", data, model: call.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/** POST /v1/responses in the Responses API shape, JSON or typed SSE events. */
export function simulateResponses(call: SimCall): void {
  const { script, model } = call;
  const id = simId("resp_sim");
  const msgId = simId("msg_sim");
  const text = script.words.join("");
  const output = call.tool ? call.tool.pieces.length : script.words.length;
  const usage = {
    input_tokens: script.inputTokens + script.cacheRead, input_tokens_details: { cached_tokens: script.cacheRead },
    output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: script.inputTokens + script.cacheRead + output,
  };
  const part = { type: "output_text", text, annotations: [] };
  const item = { type: "message", id: msgId, status: "completed", role: "assistant", content: [part] };
  const response = (status: string, output: unknown[], u: unknown) => ({
    id, object: "response", created_at: Math.floor(Date.now() / 1000), status, model, output, usage: u,
    error: null, incomplete_details: null, instructions: null, metadata: {}, parallel_tool_calls: true, temperature: 1, tool_choice: "auto", tools: [], top_p: 1,
  });
  if (call.tool) {
    responsesFunctionCall(call, call.tool, response, usage);
    return;
  }
  if (!call.stream) {
    sendJson(call, response("completed", [item], usage));
    return;
  }
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sseEvent(type, { type, sequence_number: seq++, ...data });
  const events = [
    ev("response.created", { response: response("in_progress", [], null) }),
    ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } }),
    ev("response.content_part.added", { item_id: msgId, output_index: 0, content_index: 0, part: { ...part, text: "" } }),
    ...script.words.map((w) => ev("response.output_text.delta", { item_id: msgId, output_index: 0, content_index: 0, delta: w })),
    ev("response.output_text.done", { item_id: msgId, output_index: 0, content_index: 0, text }),
    ev("response.content_part.done", { item_id: msgId, output_index: 0, content_index: 0, part }),
    ev("response.output_item.done", { output_index: 0, item }),
    ev("response.completed", { response: response("completed", [item], usage) }),
  ];
  sendEvents(call, events);
}
