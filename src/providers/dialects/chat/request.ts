import {
  bad, effortOf, emptyRequest, isObject, parseArgs, refuse, refuseUnknown, safeId, splitDataUrl, mediaUrl, unwrapSignature,
  type CanonicalRequest, type Effort, type Json, type MediaPart, type Message, type Part, type TextPart,
} from "../canonical.js";
import type { EncodeContext } from "../codec.js";
import { decodeChatThinkingBlock } from "./response.js";

const KNOWN = new Set([
  "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options", "tools",
  "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "user", "safety_identifier", "n", "logprobs", "store",
]);

/** OpenAI Chat Completions request → canonical. */
export function decodeChatRequest(body: Json, target: string): CanonicalRequest {
  refuseUnknown(body, KNOWN, target);
  if (body.n !== undefined && body.n !== null && body.n !== 1) refuse("n", target, "above 1 cannot be honoured");
  if (body.logprobs === true) refuse("logprobs", target);
  if (body.store === true) refuse("store", target);
  const r = emptyRequest(String(body.model));
  if (!Array.isArray(body.messages)) bad("messages", "must be an array");
  const system: string[] = [];
  (body.messages as unknown[]).forEach((m, i) => decodeMessage(m, `messages[${i}]`, target, r.messages, system));
  r.system = system.length ? system.join("\n") : null;
  const max = body.max_completion_tokens ?? body.max_tokens;
  r.maxTokens = typeof max === "number" ? max : null;
  r.temperature = typeof body.temperature === "number" ? body.temperature : null;
  r.topP = typeof body.top_p === "number" ? body.top_p : null;
  r.stop = typeof body.stop === "string" ? [body.stop] : Array.isArray(body.stop) ? body.stop.map(String) : [];
  r.stream = body.stream === true;
  if (Array.isArray(body.tools)) {
    r.tools = body.tools.map((t, i) => {
      if (!isObject(t) || t.type !== "function" || !isObject(t.function)) return refuse(`tools[${i}].type`, target, "other than function is not supported");
      const f = t.function;
      return { name: String(f.name), ...(f.description ? { description: String(f.description) } : {}), schema: (f.parameters ?? { type: "object", properties: {} }) as Json, ...(typeof f.strict === "boolean" ? { strict: f.strict } : {}) };
    });
  }
  const c = body.tool_choice;
  if (c === "auto" || c === "none") r.toolChoice = { type: c };
  else if (c === "required") r.toolChoice = { type: "required" };
  else if (isObject(c) && c.type === "function" && isObject(c.function)) r.toolChoice = { type: "tool", name: String(c.function.name) };
  else if (c !== undefined && c !== null) refuse("tool_choice", target, "of this kind is not supported");
  if (typeof body.parallel_tool_calls === "boolean") r.parallelToolCalls = body.parallel_tool_calls;
  if (isObject(body.response_format)) {
    const f = body.response_format;
    if (f.type === "json_object") r.output = { type: "json" };
    else if (f.type === "json_schema" && isObject(f.json_schema)) {
      const s = f.json_schema;
      r.output = { type: "json_schema", name: String(s.name ?? "output"), schema: (s.schema ?? {}) as Json, ...(typeof s.strict === "boolean" ? { strict: s.strict } : {}) };
    }
  }
  if (typeof body.reasoning_effort === "string") r.reasoning = { effort: body.reasoning_effort === "xhigh" || body.reasoning_effort === "max" ? "high" : body.reasoning_effort as Effort };
  const user = body.safety_identifier ?? body.user;
  if (typeof user === "string") r.user = user;
  return r;
}

function decodeMessage(m: unknown, at: string, target: string, out: Message[], system: string[]): void {
  if (!isObject(m)) bad(at, "must be an object");
  const role = m.role;
  if (role === "system" || role === "developer") {
    system.push(textOf(m.content));
    return;
  }
  const last = out.at(-1);
  if (role === "tool") {
    const result: Part = { type: "tool_result", id: String(m.tool_call_id), content: [{ type: "text", text: textOf(m.content) }], isError: false };
    if (last && last.role === "user") last.parts.push(result);
    else out.push({ role: "user", parts: [result] });
    return;
  }
  if (role !== "user" && role !== "assistant") return refuse(`${at}.role '${String(role)}'`, target, "is not supported");
  const parts: Part[] = [];
  // Signed reasoning sent back (LiteLLM's `thinking_blocks`) leads the turn, in order, as it was written.
  if (role === "assistant" && Array.isArray(m.thinking_blocks)) m.thinking_blocks.forEach((b, i) => parts.push(decodeChatThinkingBlock(b, `${at}.thinking_blocks[${i}]`)));
  if (typeof m.content === "string") {
    if (m.content !== "") parts.push({ type: "text", text: m.content });
  } else if (Array.isArray(m.content)) {
    m.content.forEach((p, i) => {
      const part = decodeContent(p, `${at}.content[${i}]`, target);
      if (part) parts.push(part);
    });
  }
  if (role === "assistant" && Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((t, i) => {
      if (!isObject(t) || !isObject(t.function)) bad(`${at}.tool_calls[${i}]`, "must be a function call");
      // A thought signature this gateway handed out with the call (chatCallSignature) goes back before it.
      const google = isObject(t.extra_content) && isObject(t.extra_content.google) ? t.extra_content.google : null;
      if (google && typeof google.thought_signature === "string") {
        const u = unwrapSignature("chat", google.thought_signature);
        parts.push({ type: "thinking", text: "", signature: u.signature, origin: u.origin });
      }
      parts.push({ type: "tool_call", id: String(t.id), name: String(t.function.name), args: parseArgs(String(t.function.arguments ?? ""), `${at}.tool_calls[${i}].function.arguments`) });
    });
  }
  out.push({ role, parts });
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === "string" ? p.text : "")).join("");
  return "";
}

function decodeContent(p: unknown, at: string, target: string): TextPart | MediaPart | null {
  if (!isObject(p)) return bad(at, "must be a content part");
  if (p.type === "text") return p.text ? { type: "text", text: String(p.text) } : null;
  if (p.type === "image_url" && isObject(p.image_url)) {
    const url = String(p.image_url.url);
    const d = splitDataUrl(url);
    return d ? { type: "image", ...d } : { type: "image", mediaType: "image/*", url };
  }
  if (p.type === "file" && isObject(p.file) && typeof p.file.file_data === "string") {
    const d = splitDataUrl(p.file.file_data);
    if (!d) return bad(`${at}.file.file_data`, "must be a data: URL");
    return { type: "document", ...d, ...(typeof p.file.filename === "string" ? { title: p.file.filename } : {}) };
  }
  return refuse(`${at}.type '${String(p.type)}'`, target, "is not supported");
}

/** Canonical → OpenAI Chat Completions request. */
export function encodeChatRequest(r: CanonicalRequest, ctx: EncodeContext): Json {
  if (r.topK !== null) refuse("top_k", "openai");
  if (r.stop.length > 4) refuse("stop (more than 4 sequences)", "openai");
  const messages: Json[] = r.system ? [{ role: "system", content: r.system }] : [];
  for (const m of r.messages) encodeMessage(m, messages);
  const body: Json = { model: ctx.model, messages };
  if (r.maxTokens !== null) body.max_completion_tokens = r.maxTokens;
  if (r.temperature !== null) body.temperature = r.temperature;
  if (r.topP !== null) body.top_p = r.topP;
  if (r.stop.length) body.stop = r.stop;
  if (r.tools.length) {
    body.tools = r.tools.map((t) => ({ type: "function", function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.schema, ...(t.strict !== undefined ? { strict: t.strict } : {}) } }));
    const c = r.toolChoice;
    if (c) body.tool_choice = c.type === "tool" ? { type: "function", function: { name: c.name } } : c.type;
    if (r.parallelToolCalls !== null) body.parallel_tool_calls = r.parallelToolCalls;
  }
  if (r.output) body.response_format = r.output.type === "json" ? { type: "json_object" }
    : { type: "json_schema", json_schema: { name: r.output.name, schema: r.output.schema, ...(r.output.strict !== undefined ? { strict: r.output.strict } : {}) } };
  if (r.reasoning) body.reasoning_effort = effortOf(r.reasoning);
  if (r.user) body.safety_identifier = r.user;
  if (r.stream) {
    body.stream = true;
    // Usage comes only with include_usage; the gateway meters it and writes the caller's own stream.
    body.stream_options = { include_usage: true };
  }
  return body;
}

function encodeMessage(m: Message, out: Json[]): void {
  const content: Json[] = [];
  const calls: Json[] = [];
  for (const p of m.parts) {
    switch (p.type) {
      case "text":
        if (p.text !== "") content.push({ type: "text", text: p.text });
        break;
      case "image":
        content.push({ type: "image_url", image_url: { url: mediaUrl(p) } });
        break;
      case "document":
        if (p.data === undefined) refuse("document url", "openai", "cannot be honoured (send the file's bytes)");
        content.push({ type: "file", file: { file_data: mediaUrl(p), filename: p.title ?? "document" } });
        break;
      case "tool_call":
        calls.push({ id: safeId(p.id), type: "function", function: { name: p.name, arguments: JSON.stringify(p.args) } });
        break;
      case "tool_result": {
        if (p.content.some((c) => c.type !== "text")) refuse("tool result with an image or document", "openai");
        const text = p.content.map((c) => (c as TextPart).text).join("");
        out.push({ role: "tool", tool_call_id: safeId(p.id), content: p.isError ? `Error: ${text}` : text });
        break;
      }
      case "thinking":
        break;
    }
  }
  if (m.role === "assistant") {
    const text = content.filter((c) => c.type === "text").map((c) => String(c.text)).join("");
    if (text || calls.length) out.push({ role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
  } else if (content.length) {
    out.push({ role: "user", content: content.length === 1 && content[0]!.type === "text" ? content[0]!.text : content });
  }
}
