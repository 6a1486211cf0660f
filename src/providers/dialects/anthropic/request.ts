import {
  bad, budgetOf, emptyRequest, isObject, refuse, refuseUnknown, safeId, unwrapSignature, type CanonicalRequest, type Json, type MediaPart, type Message,
  type Part, type TextPart, type Tool, type ToolChoice,
} from "../canonical.js";
import type { EncodeContext } from "../codec.js";

const KNOWN = new Set([
  "model", "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "stream", "tools", "tool_choice",
  "thinking", "metadata", "output_config", "cache_control",
]);

/** Anthropic Messages request → canonical. */
export function decodeAnthropicRequest(body: Json, target: string): CanonicalRequest {
  refuseUnknown(body, KNOWN, target);
  const r = emptyRequest(String(body.model));
  r.system = systemText(body.system);
  if (!Array.isArray(body.messages)) bad("messages", "must be an array");
  r.messages = (body.messages as unknown[]).map((m, i) => decodeMessage(m, `messages[${i}]`, target));
  r.maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : null;
  r.temperature = typeof body.temperature === "number" ? body.temperature : null;
  r.topP = typeof body.top_p === "number" ? body.top_p : null;
  r.topK = typeof body.top_k === "number" ? body.top_k : null;
  r.stop = Array.isArray(body.stop_sequences) ? body.stop_sequences.map(String) : [];
  r.stream = body.stream === true;
  if (Array.isArray(body.tools)) r.tools = body.tools.map((t, i) => decodeTool(t, i));
  if (isObject(body.tool_choice)) {
    const c = body.tool_choice;
    r.toolChoice = c.type === "any" ? { type: "required" } : c.type === "tool" ? { type: "tool", name: String(c.name) } : c.type === "none" ? { type: "none" } : { type: "auto" };
    if (c.disable_parallel_tool_use === true) r.parallelToolCalls = false;
  }
  if (isObject(body.thinking)) {
    const t = body.thinking;
    r.reasoning = t.type === "enabled" ? { budget: Number(t.budget_tokens), show: t.display !== "omitted" }
      : t.type === "disabled" ? { budget: 0 } : { budget: -1, show: t.display !== "omitted" };
  }
  if (isObject(body.output_config)) {
    const oc = body.output_config;
    for (const k in oc) if (k !== "format" && k !== "effort") refuse(`output_config.${k}`, target, "is not supported");
    if (typeof oc.effort === "string") r.reasoning = { ...r.reasoning, effort: oc.effort === "max" || oc.effort === "xhigh" ? "high" : oc.effort as "low" };
    if (isObject(oc.format)) r.output = { type: "json_schema", name: "output", schema: (oc.format.schema ?? {}) as Json };
  }
  if (isObject(body.metadata) && typeof body.metadata.user_id === "string") r.user = body.metadata.user_id;
  return r;
}

function systemText(v: unknown): string | null {
  if (typeof v === "string") return v || null;
  if (Array.isArray(v)) return v.map((b) => (isObject(b) ? String(b.text ?? "") : "")).join("\n") || null;
  return null;
}

function decodeMessage(m: unknown, at: string, target: string): Message {
  if (!isObject(m) || (m.role !== "user" && m.role !== "assistant")) bad(`${at}.role`, "must be user or assistant");
  const content = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
  if (!Array.isArray(content)) bad(`${at}.content`, "must be a string or an array of blocks");
  const parts: Part[] = [];
  content.forEach((b, i) => {
    const p = decodeBlock(b, `${at}.content[${i}]`, target);
    if (p) parts.push(p);
  });
  return { role: m.role, parts };
}

function decodeBlock(b: unknown, at: string, target: string): Part | null {
  if (!isObject(b)) bad(at, "must be a content block");
  switch (b.type) {
    case "text": return b.text ? { type: "text", text: String(b.text) } : null;
    case "image":
    case "document": return decodeMedia(b, at, target);
    case "tool_use": return { type: "tool_call", id: String(b.id), name: String(b.name), args: isObject(b.input) ? b.input : {} };
    case "tool_result": {
      const raw = typeof b.content === "string" ? [{ type: "text", text: b.content }] : Array.isArray(b.content) ? b.content : [];
      const content = raw.map((c, i) => decodeBlock(c, `${at}.content[${i}]`, target)).filter((c): c is TextPart | MediaPart => c !== null && (c.type === "text" || c.type === "image" || c.type === "document"));
      return { type: "tool_result", id: String(b.tool_use_id), content, isError: b.is_error === true };
    }
    case "thinking": {
      // A signature another provider wrote comes back tagged (wrapSignature): it goes back there.
      const u = unwrapSignature("anthropic", String(b.signature ?? ""));
      return { type: "thinking", text: String(b.thinking ?? ""), signature: u.signature, origin: u.origin, ...(u.redacted ? { redacted: true } : {}) };
    }
    case "redacted_thinking": return { type: "thinking", text: "", signature: String(b.data ?? ""), origin: "anthropic", redacted: true };
    default: return refuse(`${at}.type '${String(b.type)}'`, target, "is not supported");
  }
}

function decodeMedia(b: Json, at: string, target: string): MediaPart {
  const s = isObject(b.source) ? b.source : {};
  const kind = b.type as "image" | "document";
  const title = typeof b.title === "string" ? { title: b.title } : {};
  if (s.type === "base64") return { type: kind, mediaType: String(s.media_type), data: String(s.data), ...title };
  if (s.type === "url") return { type: kind, mediaType: kind === "image" ? "image/*" : "application/pdf", url: String(s.url), ...title };
  if (s.type === "text") return { type: "document", mediaType: "text/plain", data: Buffer.from(String(s.data)).toString("base64"), ...title };
  return refuse(`${at}.source.type '${String(s.type)}'`, target, "is not supported");
}

function decodeTool(t: unknown, i: number): Tool {
  if (!isObject(t)) bad(`tools[${i}]`, "must be an object");
  if (t.type !== undefined && t.type !== "custom") refuse(`tools[${i}].type '${String(t.type)}'`, "another provider", "(a server tool) is not available");
  return { name: String(t.name), ...(t.description ? { description: String(t.description) } : {}), schema: (t.input_schema ?? { type: "object", properties: {} }) as Json, ...(typeof t.strict === "boolean" ? { strict: t.strict } : {}) };
}

/** Canonical → Anthropic Messages request. */
export function encodeAnthropicRequest(r: CanonicalRequest, ctx: EncodeContext): Json {
  if (r.temperature !== null && r.temperature > 1) refuse("temperature above 1", "anthropic", "cannot be honoured (Anthropic accepts 0 to 1)");
  if (r.output?.type === "json") refuse("response_format json_object", "anthropic", "cannot be honoured; ask for a json_schema format instead");
  const body: Json = { model: ctx.model, max_tokens: r.maxTokens ?? ctx.maxOutputTokens, messages: encodeMessages(r.messages, ctx.origin ?? "anthropic") };
  if (r.system) body.system = r.system;
  if (r.temperature !== null) body.temperature = r.temperature;
  if (r.topP !== null) body.top_p = r.topP;
  if (r.topK !== null) body.top_k = r.topK;
  if (r.stop.length) {
    if (r.stop.some((s) => s.trim() === "")) refuse("stop (a whitespace-only sequence)", "anthropic");
    body.stop_sequences = r.stop;
  }
  if (r.tools.length) body.tools = r.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.schema, ...(t.strict !== undefined ? { strict: t.strict } : {}) }));
  const choice = encodeChoice(r.toolChoice, r.parallelToolCalls);
  if (choice && r.tools.length) body.tool_choice = choice;
  if (r.output) body.output_config = { format: { type: "json_schema", schema: r.output.schema } };
  if (r.reasoning) {
    const budget = budgetOf(r.reasoning);
    if (budget === 0) body.thinking = { type: "disabled" };
    else {
      const tokens = budget < 0 ? 8192 : Math.max(1024, budget);
      body.thinking = { type: "enabled", budget_tokens: tokens };
      // max_tokens counts thinking and must exceed the budget: the answer keeps its own room.
      if ((body.max_tokens as number) <= tokens) body.max_tokens = tokens + (body.max_tokens as number);
    }
  }
  if (r.user) body.metadata = { user_id: r.user };
  if (r.stream) body.stream = true;
  return body;
}

function encodeChoice(c: ToolChoice | null, parallel: boolean | null): Json | null {
  const base: Json | null = !c ? (parallel === false ? { type: "auto" } : null)
    : c.type === "required" ? { type: "any" } : c.type === "tool" ? { type: "tool", name: c.name } : { type: c.type };
  if (base && parallel === false && base.type !== "none") base.disable_parallel_tool_use = true;
  return base;
}

/** Merges same-role turns, puts tool results first in their user turn, drops what Anthropic cannot replay. */
function encodeMessages(messages: Message[], origin: string): Json[] {
  const out: { role: string; content: Json[] }[] = [];
  for (const m of messages) {
    const blocks: Json[] = [];
    const results: Json[] = [];
    for (const p of m.parts) {
      if (p.type === "tool_result") results.push({ type: "tool_result", tool_use_id: safeId(p.id), content: p.content.map(encodePart), ...(p.isError ? { is_error: true } : {}) });
      else if (p.type === "thinking") {
        // The model's own thinking is replayed unmodified and in order (with thinking and tools it
        // must lead the turn); reasoning any other model wrote cannot be verified here: dropped.
        if (p.origin === origin && p.signature) blocks.push(p.redacted ? { type: "redacted_thinking", data: p.signature } : { type: "thinking", thinking: p.text, signature: p.signature });
      } else if (!(p.type === "text" && p.text === "")) blocks.push(encodePart(p));
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

function encodePart(p: Exclude<Part, { type: "tool_result" | "thinking" }>): Json {
  switch (p.type) {
    case "text": return { type: "text", text: p.text };
    case "tool_call": return { type: "tool_use", id: safeId(p.id), name: p.name, input: p.args };
    default: {
      const source = p.data !== undefined
        ? (p.mediaType === "text/plain" ? { type: "text", media_type: "text/plain", data: Buffer.from(p.data, "base64").toString("utf8") } : { type: "base64", media_type: p.mediaType, data: p.data })
        : { type: "url", url: p.url };
      return { type: p.type === "image" ? "image" : "document", source, ...(p.title ? { title: p.title } : {}) };
    }
  }
}
