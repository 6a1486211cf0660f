import { sendEvents, sendJson, type SimCall } from "./emit.js";
import type { ToolCall } from "./tools.js";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const TOP_LEVEL = new Set([
  "messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields", "additionalModelResponseFieldPaths", "guardrailConfig",
  "promptVariables", "requestMetadata", "performanceConfig", "serviceTier", "outputConfig",
]);
const BLOCKS = new Set(["text", "image", "document", "video", "audio", "toolUse", "toolResult", "reasoningContent", "citationsContent", "searchResult", "cachePoint", "guardContent"]);
const INFERENCE = new Set(["maxTokens", "temperature", "topP", "stopSequences"]);

/**
 * What Bedrock's Converse refuses (cloud-providers.md 1.7), as a ValidationException message; null
 * when the body is one Converse takes. `anthropic` says whether the model takes Anthropic's own
 * additional fields (thinking, top_k).
 */
export function converseProblem(body: Json, anthropic: boolean): string | null {
  for (const k of Object.keys(body)) if (!TOP_LEVEL.has(k)) return `1 validation error detected: Unknown field '${k}'.`;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return "1 validation error detected: Value at 'messages' failed to satisfy constraint: Member must not be null and must have length greater than or equal to 1.";
  let tools = false;
  for (const [i, m] of messages.entries()) {
    if (!isObj(m) || (m.role !== "user" && m.role !== "assistant")) return `1 validation error detected: Value at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant].`;
    if (i === 0 && m.role !== "user") return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
    if (i > 0 && (messages[i - 1] as Json).role === m.role) return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
    if (!Array.isArray(m.content) || m.content.length === 0) return `1 validation error detected: Value at 'messages.${i + 1}.member.content' failed to satisfy constraint: Member must not be null.`;
    for (const b of m.content as unknown[]) {
      const keys = isObj(b) ? Object.keys(b) : [];
      if (keys.length !== 1 || !BLOCKS.has(keys[0]!)) return `1 validation error detected: messages.${i + 1}.content: each content block must set exactly one member of the ContentBlock union.`;
      if (keys[0] === "toolUse" || keys[0] === "toolResult") tools = true;
      if (keys[0] === "text" && typeof (b as Json).text !== "string") return `messages.${i + 1}.content: text must be a string.`;
    }
  }
  if (tools && !isObj(body.toolConfig)) return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
  if (body.system !== undefined && (!Array.isArray(body.system) || body.system.some((s) => !isObj(s)))) return "1 validation error detected: Value at 'system' must be a list of SystemContentBlock.";
  if (body.inferenceConfig !== undefined) {
    const c = body.inferenceConfig;
    if (!isObj(c)) return "inferenceConfig must be an object.";
    for (const k of Object.keys(c)) if (!INFERENCE.has(k)) return `1 validation error detected: Unknown field 'inferenceConfig.${k}'.`;
    if (c.maxTokens !== undefined && (!Number.isInteger(c.maxTokens) || (c.maxTokens as number) < 1)) return "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1.";
  }
  const output = outputConfigProblem(body.outputConfig);
  if (output) return output;
  const extra = body.additionalModelRequestFields;
  if (extra !== undefined && !anthropic && isObj(extra) && Object.keys(extra).length) {
    return `The model returned the following errors: Malformed input request: #: extraneous key [${Object.keys(extra)[0]}] is not permitted, please reformat your input and try again.`;
  }
  return null;
}

/**
 * What Converse refuses in `outputConfig` (structured output): `textFormat` of type json_schema
 * whose structure's `jsonSchema.schema` is a JSON object given as a string, under a plain name.
 */
function outputConfigProblem(o: unknown): string | null {
  if (o === undefined) return null;
  if (!isObj(o)) return "1 validation error detected: Value at 'outputConfig' must be an object.";
  for (const k of Object.keys(o)) if (k !== "textFormat" && k !== "effort") return `1 validation error detected: Unknown field 'outputConfig.${k}'.`;
  const f = o.textFormat;
  if (f === undefined) return null;
  if (!isObj(f) || f.type !== "json_schema") return "1 validation error detected: Value at 'outputConfig.textFormat.type' failed to satisfy constraint: Member must satisfy enum value set: [json_schema].";
  const js = isObj(f.structure) ? f.structure.jsonSchema : undefined;
  if (!isObj(js) || Object.keys(f.structure as Json).length !== 1) return "1 validation error detected: outputConfig.textFormat.structure must set exactly one member of the OutputFormatStructure union.";
  if (typeof js.schema !== "string") return "1 validation error detected: Value at 'outputConfig.textFormat.structure.jsonSchema.schema' must be a string.";
  try {
    if (!isObj(JSON.parse(js.schema))) throw new Error("not an object");
  } catch {
    return "The provided JSON schema is invalid: it must be a JSON object.";
  }
  if (js.name !== undefined && (typeof js.name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name))) {
    return "1 validation error detected: Value at 'outputConfig.textFormat.structure.jsonSchema.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}.";
  }
  return null;
}

/**
 * Answers Converse (JSON) or ConverseStream (event-stream frames, usage only in the final
 * `metadata` event), with text or, when tools are declared and not answered yet, a tool call.
 */
export function answerConverse(call: SimCall, frame: (eventType: string, data: Json) => Buffer): void {
  const { script } = call;
  const usage = {
    inputTokens: script.inputTokens, outputTokens: call.tool ? call.tool.pieces.length : script.words.length,
    totalTokens: 0, ...(script.cacheRead ? { cacheReadInputTokens: script.cacheRead } : {}), ...(script.cacheWrite ? { cacheWriteInputTokens: script.cacheWrite } : {}),
  };
  usage.totalTokens = usage.inputTokens + usage.outputTokens + script.cacheRead + script.cacheWrite;
  const tool: ToolCall | null | undefined = call.tool;
  const stopReason = tool ? "tool_use" : script.stopReason === "max_tokens" ? "max_tokens" : "end_turn";
  const text = script.words.join("");
  if (!call.stream) {
    const content = tool ? [{ toolUse: { toolUseId: tool.id, name: tool.name, input: tool.args } }] : [{ text }];
    sendJson(call, { output: { message: { role: "assistant", content } }, stopReason, usage, metrics: { latencyMs: 120 } });
    return;
  }
  const events: Buffer[] = [frame("messageStart", { role: "assistant" })];
  if (tool) {
    events.push(frame("contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId: tool.id, name: tool.name } } }));
    for (const p of tool.pieces) events.push(frame("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: p } } }));
  } else {
    for (const w of script.words) events.push(frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: w } }));
  }
  events.push(frame("contentBlockStop", { contentBlockIndex: 0 }), frame("messageStop", { stopReason }), frame("metadata", { usage, metrics: { latencyMs: 120 } }));
  const all = Buffer.concat(events);
  const pieces: Buffer[] = [];
  for (let i = 0; i < all.length; i += 89) pieces.push(all.subarray(i, i + 89));
  sendEvents(call, pieces, "application/vnd.amazon.eventstream", true);
}
