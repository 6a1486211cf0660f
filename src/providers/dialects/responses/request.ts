import {
  bad, effortOf, emptyRequest, isObject, mediaUrl, parseArgs, refuse, refuseUnknown, safeId, splitDataUrl, unwrapSignature,
  type CanonicalRequest, type Effort, type Json, type MediaPart, type Message, type Part, type TextPart,
} from "../canonical.js";
import type { EncodeContext } from "../codec.js";

const KNOWN = new Set([
  "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "stream", "stream_options", "tools", "tool_choice",
  "parallel_tool_calls", "text", "reasoning", "user", "safety_identifier", "store", "include",
]);
/** What `include` may ask for: reasoning items carry their encrypted content whenever there is some. */
const INCLUDABLE = new Set(["reasoning.encrypted_content"]);

/** OpenAI Responses request → canonical. Stored state (previous_response_id, conversation) is refused: no provider but OpenAI keeps it. */
export function decodeResponsesRequest(body: Json, target: string): CanonicalRequest {
  refuseUnknown(body, KNOWN, target);
  if (body.store === true) refuse("store", target);
  if (body.include !== undefined && body.include !== null) {
    if (!Array.isArray(body.include)) bad("include", "must be an array");
    for (const x of body.include) if (!INCLUDABLE.has(String(x))) refuse(`include '${String(x)}'`, target, "cannot be honoured");
  }
  const r = emptyRequest(String(body.model));
  const system: string[] = typeof body.instructions === "string" && body.instructions ? [body.instructions] : [];
  if (typeof body.input === "string") r.messages.push({ role: "user", parts: [{ type: "text", text: body.input }] });
  else if (Array.isArray(body.input)) body.input.forEach((item, i) => decodeItem(item, `input[${i}]`, target, r.messages, system));
  else bad("input", "must be a string or an array of items");
  r.system = system.length ? system.join("\n") : null;
  r.maxTokens = typeof body.max_output_tokens === "number" ? body.max_output_tokens : null;
  r.temperature = typeof body.temperature === "number" ? body.temperature : null;
  r.topP = typeof body.top_p === "number" ? body.top_p : null;
  r.stream = body.stream === true;
  if (Array.isArray(body.tools)) {
    r.tools = body.tools.map((t, i) => {
      if (!isObject(t) || t.type !== "function") return refuse(`tools[${i}].type '${String(isObject(t) ? t.type : t)}'`, target, "is not supported");
      return { name: String(t.name), ...(t.description ? { description: String(t.description) } : {}), schema: (t.parameters ?? { type: "object", properties: {} }) as Json, ...(typeof t.strict === "boolean" ? { strict: t.strict } : {}) };
    });
  }
  const c = body.tool_choice;
  if (c === "auto" || c === "none") r.toolChoice = { type: c };
  else if (c === "required") r.toolChoice = { type: "required" };
  else if (isObject(c) && c.type === "function") r.toolChoice = { type: "tool", name: String(c.name) };
  else if (c !== undefined && c !== null) refuse("tool_choice", target, "of this kind is not supported");
  if (typeof body.parallel_tool_calls === "boolean") r.parallelToolCalls = body.parallel_tool_calls;
  if (isObject(body.text)) {
    for (const k in body.text) if (k !== "format") refuse(`text.${k}`, target, "is not supported");
    const f = isObject(body.text.format) ? body.text.format : {};
    if (f.type === "json_object") r.output = { type: "json" };
    else if (f.type === "json_schema") r.output = { type: "json_schema", name: String(f.name ?? "output"), schema: (f.schema ?? {}) as Json, ...(typeof f.strict === "boolean" ? { strict: f.strict } : {}) };
  }
  if (isObject(body.reasoning)) {
    const e = body.reasoning.effort;
    r.reasoning = { ...(typeof e === "string" ? { effort: (e === "xhigh" || e === "max" ? "high" : e) as Effort } : {}), ...(body.reasoning.summary ? { show: true } : {}) };
  }
  const user = body.safety_identifier ?? body.user;
  if (typeof user === "string") r.user = user;
  return r;
}

function push(out: Message[], role: "user" | "assistant", part: Part): void {
  const last = out.at(-1);
  if (last && last.role === role) last.parts.push(part);
  else out.push({ role, parts: [part] });
}

function decodeItem(item: unknown, at: string, target: string, out: Message[], system: string[]): void {
  if (!isObject(item)) bad(at, "must be an input item");
  const type = item.type ?? "message";
  if (type === "message") {
    const role = item.role;
    const parts = contentParts(item.content, at, target);
    if (role === "system" || role === "developer") system.push(parts.map((p) => (p.type === "text" ? p.text : "")).join(""));
    else if (role === "user" || role === "assistant") {
      if (parts.length === 0) return;
      const last = out.at(-1);
      if (last && last.role === role) last.parts.push(...parts);
      else out.push({ role, parts });
    } else refuse(`${at}.role '${String(role)}'`, target, "is not supported");
  } else if (type === "function_call") {
    push(out, "assistant", { type: "tool_call", id: String(item.call_id), name: String(item.name), args: parseArgs(String(item.arguments ?? ""), `${at}.arguments`) });
  } else if (type === "function_call_output") {
    const content = typeof item.output === "string" ? [{ type: "text" as const, text: item.output }] : contentParts(item.output, `${at}.output`, target);
    push(out, "user", { type: "tool_result", id: String(item.call_id), content: content.filter((p): p is TextPart | MediaPart => p.type === "text" || p.type === "image" || p.type === "document"), isError: false });
  } else if (type === "reasoning") {
    // Reasoning another provider signed comes back tagged in encrypted_content (wrapSignature) and
    // goes back to it; an OpenAI model's own encrypted reasoning no other provider can read.
    const sealed = typeof item.encrypted_content === "string" ? unwrapSignature("responses", item.encrypted_content) : null;
    if (!sealed || sealed.origin === "responses") return;
    const text = Array.isArray(item.summary) ? item.summary.map((x) => (isObject(x) ? String(x.text ?? "") : "")).join("") : "";
    push(out, "assistant", { type: "thinking", text, signature: sealed.signature, origin: sealed.origin, ...(sealed.redacted ? { redacted: true } : {}) });
  } else refuse(`${at}.type '${String(type)}'`, target, "is not supported");
}

function contentParts(content: unknown, at: string, target: string): Part[] {
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: Part[] = [];
  content.forEach((p, i) => {
    if (!isObject(p)) bad(`${at}.content[${i}]`, "must be a content part");
    if (p.type === "input_text" || p.type === "output_text" || p.type === "refusal") {
      const text = String(p.text ?? p.refusal ?? "");
      if (text) parts.push({ type: "text", text });
    } else if (p.type === "input_image" && typeof p.image_url === "string") {
      const d = splitDataUrl(p.image_url);
      parts.push(d ? { type: "image", ...d } : { type: "image", mediaType: "image/*", url: p.image_url });
    } else if (p.type === "input_file" && typeof p.file_data === "string") {
      const d = splitDataUrl(p.file_data);
      if (!d) bad(`${at}.content[${i}].file_data`, "must be a data: URL");
      parts.push({ type: "document", ...d, ...(typeof p.filename === "string" ? { title: p.filename } : {}) });
    } else refuse(`${at}.content[${i}].type '${String(p.type)}'`, target, "is not supported");
  });
  return parts;
}

/** Canonical → OpenAI Responses request (stateless: store is off). */
export function encodeResponsesRequest(r: CanonicalRequest, ctx: EncodeContext): Json {
  if (r.topK !== null) refuse("top_k", "openai responses");
  if (r.stop.length) refuse("stop sequences", "openai responses");
  const input: Json[] = [];
  for (const m of r.messages) {
    const content: Json[] = [];
    const flush = () => {
      if (content.length) input.push({ role: m.role, content: content.splice(0) });
    };
    for (const p of m.parts) {
      if (p.type === "text" && p.text) content.push({ type: m.role === "assistant" ? "output_text" : "input_text", text: p.text });
      else if (p.type === "image") content.push({ type: "input_image", image_url: mediaUrl(p), detail: "auto" });
      else if (p.type === "document") {
        if (p.data === undefined) refuse("document url", "openai responses", "cannot be honoured (send the file's bytes)");
        content.push({ type: "input_file", file_data: mediaUrl(p), filename: p.title ?? "document" });
      } else if (p.type === "tool_call") {
        flush();
        input.push({ type: "function_call", call_id: safeId(p.id), name: p.name, arguments: JSON.stringify(p.args) });
      } else if (p.type === "tool_result") {
        flush();
        if (p.content.some((c) => c.type !== "text")) refuse("tool result with an image or document", "openai responses");
        const text = p.content.map((c) => (c as TextPart).text).join("");
        input.push({ type: "function_call_output", call_id: safeId(p.id), output: p.isError ? `Error: ${text}` : text });
      }
    }
    flush();
  }
  const body: Json = { model: ctx.model, input, store: false };
  if (r.system) body.instructions = r.system;
  if (r.maxTokens !== null) body.max_output_tokens = r.maxTokens;
  if (r.temperature !== null) body.temperature = r.temperature;
  if (r.topP !== null) body.top_p = r.topP;
  if (r.tools.length) {
    body.tools = r.tools.map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.schema, strict: t.strict ?? false }));
    const c = r.toolChoice;
    if (c) body.tool_choice = c.type === "tool" ? { type: "function", name: c.name } : c.type;
    if (r.parallelToolCalls !== null) body.parallel_tool_calls = r.parallelToolCalls;
  }
  if (r.output) body.text = { format: r.output.type === "json" ? { type: "json_object" } : { type: "json_schema", name: r.output.name, schema: r.output.schema, strict: r.output.strict ?? false } };
  if (r.reasoning) body.reasoning = { effort: effortOf(r.reasoning), ...(r.reasoning.show ? { summary: "auto" } : {}) };
  if (r.user) body.safety_identifier = r.user;
  if (r.stream) body.stream = true;
  return body;
}
