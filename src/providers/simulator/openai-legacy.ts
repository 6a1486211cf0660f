import { sendEvents, sendJson, simId, sseEvent, type SimCall } from "./emit.js";

/** POST /v1/completions (the legacy text API), JSON or SSE with `include_usage` honoured. */
export function simulateCompletion(call: SimCall): void {
  const { script, model, body } = call;
  const id = simId("cmpl-sim");
  const created = Math.floor(Date.now() / 1000);
  const finish = script.stopReason === "max_tokens" ? "length" : "stop";
  const usage = { prompt_tokens: script.inputTokens, completion_tokens: script.words.length, total_tokens: script.inputTokens + script.words.length };
  const choice = (text: string, done: boolean) => ({ text, index: 0, logprobs: null, finish_reason: done ? finish : null });
  if (!call.stream) {
    sendJson(call, { id, object: "text_completion", created, model, choices: [choice(script.words.join(""), true)], usage });
    return;
  }
  const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseEvent(null, { id, object: "text_completion", created, model, choices, ...(includeUsage ? { usage: null } : {}), ...extra });
  sendEvents(call, [
    ...script.words.map((w, i) => chunk([choice(w, i === script.words.length - 1)])),
    ...(includeUsage ? [chunk([], { usage })] : []),
    "data: [DONE]\n\n",
  ]);
}

const CATEGORIES = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic"];

/** POST /v1/moderations: nothing flagged unless the text says `sim-flag`; free, so no usage. */
export function simulateModeration(call: SimCall): void {
  const input = call.body.input;
  const items = Array.isArray(input) ? input : [input];
  const results = items.map((item) => {
    const flagged = JSON.stringify(item).includes("sim-flag");
    return {
      flagged,
      categories: Object.fromEntries(CATEGORIES.map((c) => [c, flagged && c === "violence"])),
      category_scores: Object.fromEntries(CATEGORIES.map((c) => [c, flagged && c === "violence" ? 0.97 : 0.0001])),
      category_applied_input_types: Object.fromEntries(CATEGORIES.map((c) => [c, ["text"]])),
    };
  });
  sendJson(call, { id: simId("modr-sim"), model: call.model, results });
}
