import { budgetOf, refuse, safeId, type CanonicalRequest, type Json, type MediaPart, type Message, type Part, type TextPart } from "../../dialects/canonical.js";

const TARGET = "Bedrock's Converse";
const IMAGE_FORMATS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp" };
const DOC_FORMATS: Record<string, string> = {
  "application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv", "text/html": "html", "text/markdown": "md", "application/msword": "doc",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx", "application/vnd.ms-excel": "xls",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
};

/** Whether a Bedrock model id names an Anthropic model (which takes Anthropic's own extra fields: top_k, thinking). */
export function isAnthropicModel(modelId: string): boolean {
  return /(^|[.:/])anthropic\./.test(modelId);
}

/**
 * Canonical request → the Converse body (cloud-providers.md 1.7). The model is in the path and
 * streaming is chosen by the path, so neither is in the body. What Converse has no field for is
 * refused by name: Anthropic's own fields (top_k, thinking) ride in additionalModelRequestFields
 * for Anthropic models only, since other families name them differently or not at all.
 */
export function encodeConverseRequest(r: CanonicalRequest, modelId: string, maxOutputTokens: number): Json {
  const anthropic = isAnthropicModel(modelId);
  const body: Json = { messages: encodeMessages(r.messages) };
  if (r.system) body.system = [{ text: r.system }];
  const inference: Json = { maxTokens: r.maxTokens ?? maxOutputTokens };
  if (r.temperature !== null) inference.temperature = r.temperature;
  if (r.topP !== null) inference.topP = r.topP;
  if (r.stop.length) inference.stopSequences = r.stop;
  body.inferenceConfig = inference;
  const extra: Json = {};
  if (r.topK !== null) {
    if (!anthropic) refuse("top_k", TARGET);
    extra.top_k = r.topK;
  }
  if (r.reasoning) {
    if (!anthropic) refuse("reasoning", TARGET, "cannot be honoured for this model family");
    const budget = budgetOf(r.reasoning);
    if (budget === 0) extra.thinking = { type: "disabled" };
    else {
      const tokens = budget < 0 ? 8192 : Math.max(1024, budget);
      extra.thinking = { type: "enabled", budget_tokens: tokens };
      if ((inference.maxTokens as number) <= tokens) inference.maxTokens = tokens + (inference.maxTokens as number);
    }
  }
  if (Object.keys(extra).length) body.additionalModelRequestFields = extra;
  const c = r.toolChoice;
  // Converse has no choice that forbids tools: they are left undeclared instead, which it allows
  // only while no turn holds a tool call or result (those need toolConfig).
  const forbidden = c?.type === "none";
  if (forbidden && r.tools.length && r.messages.some((m) => m.parts.some((p) => p.type === "tool_call" || p.type === "tool_result"))) {
    refuse("tool_choice none", TARGET, "cannot be honoured once the conversation holds tool calls (Converse then needs the tools declared, and cannot forbid them)");
  }
  if (r.tools.length && !forbidden) {
    const toolConfig: Json = {
      tools: r.tools.map((t) => ({ toolSpec: { name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: { json: t.schema } } })),
    };
    if (c?.type === "required") toolConfig.toolChoice = { any: {} };
    else if (c?.type === "tool") toolConfig.toolChoice = { tool: { name: c.name } };
    else if (c) toolConfig.toolChoice = { auto: {} };
    body.toolConfig = toolConfig;
    // Converse has no setting that holds a turn to one tool call; without tools there is nothing to hold.
    if (r.parallelToolCalls === false) refuse("parallel_tool_calls false", TARGET, "cannot be honoured (Converse has no setting that limits a turn to one tool call)");
  } else if (c && c.type !== "none" && c.type !== "auto") {
    refuse("tool_choice", TARGET, "needs tools");
  }
  if (r.output?.type === "json") refuse("response_format json_object", TARGET, "cannot be honoured (Converse takes a JSON schema, not JSON mode)");
  if (r.output) body.outputConfig = { textFormat: outputFormat(r.output) };
  if (r.user) body.requestMetadata = { user: r.user.slice(0, 256) };
  return body;
}

/**
 * Structured output as Converse's `outputConfig.textFormat`: the schema as a JSON string, under a
 * name of letters, digits, underscores and hyphens. The answer is the JSON as text, as the other
 * dialects give it, so nothing is unwrapped on the way back.
 */
function outputFormat(o: Extract<CanonicalRequest["output"], { type: "json_schema" }>): Json {
  const name = o.name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "response";
  return { type: "json_schema", structure: { jsonSchema: { schema: JSON.stringify(o.schema), name } } };
}

/** Merges same-role turns and puts tool results first in their user turn, as Converse requires alternation. */
function encodeMessages(messages: Message[]): Json[] {
  const out: { role: string; content: Json[] }[] = [];
  for (const m of messages) {
    const results: Json[] = [];
    const blocks: Json[] = [];
    for (const p of m.parts) {
      if (p.type === "tool_result") results.push(toolResult(p));
      // Reasoning is replayed only to the model that wrote it, as on the Anthropic side.
      else if (p.type !== "thinking" && !(p.type === "text" && p.text === "")) blocks.push(encodePart(p));
    }
    const content = [...results, ...blocks];
    if (content.length === 0) continue;
    const last = out.at(-1);
    if (last && last.role === m.role) {
      if (results.length) last.content.unshift(...results);
      last.content.push(...blocks);
    } else out.push({ role: m.role, content });
  }
  return out;
}

function toolResult(p: Extract<Part, { type: "tool_result" }>): Json {
  const content = p.content.map((c) => (c.type === "text" ? { text: c.text } : media(c, "tool result content")));
  return { toolResult: { toolUseId: safeId(p.id), content: content.length ? content : [{ text: "" }], status: p.isError ? "error" : "success" } };
}

function encodePart(p: Exclude<Part, { type: "tool_result" | "thinking" }>): Json {
  if (p.type === "text") return { text: p.text };
  if (p.type === "tool_call") return { toolUse: { toolUseId: safeId(p.id), name: p.name, input: p.args } };
  return media(p, "content");
}

function media(p: MediaPart | TextPart, where: string): Json {
  if (p.type === "text") return { text: p.text };
  if (p.data === undefined) refuse(`an ${p.type} by URL in ${where}`, TARGET, "cannot be honoured (Converse takes inline bytes)");
  if (p.type === "image") {
    const format = IMAGE_FORMATS[p.mediaType];
    if (!format) refuse(`image type ${p.mediaType}`, TARGET, "is not supported");
    return { image: { format, source: { bytes: p.data } } };
  }
  const format = DOC_FORMATS[p.mediaType];
  if (!format) refuse(`document type ${p.mediaType}`, TARGET, "is not supported");
  // Converse requires a document name: letters, digits, spaces, hyphens, parentheses and brackets.
  const name = (p.title ?? "document").replace(/[^A-Za-z0-9 ()[\]-]/g, " ").trim().slice(0, 200) || "document";
  return { document: { format, name, source: { bytes: p.data } } };
}
