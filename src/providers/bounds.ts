import type { Operation } from "./types.js";

/** Token allowances on top of the body's bytes (framing, roles, pictures, tool instructions). */
export const PER_MESSAGE_TOKENS = 16;
export const PER_TOOL_TOKENS = 64;
/** The providers' tool-use system prompt, added once when a request declares tools (Anthropic: 346). */
export const TOOLS_OVERHEAD_TOKENS = 1_024;
/**
 * An image, whatever its bytes: Anthropic resizes to about 1.15 megapixels (≤ 1,600 tokens),
 * OpenAI's patch models cap at 1,536 patches × 1.72 (≤ 2,642), Gemini 3 at 1,120 a picture.
 */
export const PER_IMAGE_TOKENS = 2_700;
/** A PDF page: its picture (≤ 1,600) and its text (Anthropic's guide: 1,500–3,000 a page). */
export const PER_PDF_PAGE_TOKENS = 4_800;

/** Why a body could not be bounded (answered to the caller as a refusal). */
export interface Unbounded { unbounded: string }

/**
 * An upper bound of the input tokens of a request, with no tokenizer. Text: every string, key
 * and number of the body is in its raw bytes (a JSON escape is never shorter than the UTF-8 it
 * stands for) and a byte-level BPE token covers at least one byte, so the raw byte length bounds
 * the text's tokens; base64 data (audio, video, inline text) is four bytes for every three it
 * carries, more than any of those cost. On top: an allowance per message, tool, image and PDF
 * page. Content the body only points at (a URL or file id of a document, Gemini fileData) cannot
 * be measured here; a provider never reads more than the model's context window, so that window is
 * the bound then, and with no known window the body cannot be bounded.
 */
export function inputTokenBound(body: unknown, rawBytes: number, contextWindow: number): number | Unbounded {
  const acc = walk(body);
  if (acc.unbounded !== null) return { unbounded: acc.unbounded };
  const tokens = rawBytes + acc.messages * PER_MESSAGE_TOKENS + acc.tools * PER_TOOL_TOKENS + (acc.tools > 0 ? TOOLS_OVERHEAD_TOKENS : 0)
    + acc.images * PER_IMAGE_TOKENS + acc.pages * PER_PDF_PAGE_TOKENS;
  if (acc.unmeasured === null) return tokens;
  if (contextWindow > 0) return Math.max(tokens, contextWindow);
  return { unbounded: `${acc.unmeasured} cannot be measured before it is sent, and the model has no context window to bound it by` };
}

interface Acc { messages: number; tools: number; images: number; pages: number; unmeasured: string | null; unbounded: string | null }

const MESSAGE_LISTS = new Set(["messages", "contents", "input"]);
const TOOL_LISTS = new Set(["tools", "functionDeclarations", "function_declarations"]);
const IMAGE_TYPES = new Set(["image", "image_url", "input_image"]);
/** Fields that name content held elsewhere (a provider's file store, a URL it fetches). */
const REFERENCES = new Set(["file_id", "file_url", "fileUri", "file_uri", "previous_response_id", "conversation", "cachedContent", "cached_content"]);
/** Tools the provider runs itself, reading what it finds as input (searches, fetches, code, MCP): no bound holds. */
const SERVER_TOOL_FIELDS = new Set(["googleSearch", "google_search", "googleSearchRetrieval", "google_search_retrieval", "urlContext", "url_context", "codeExecution", "code_execution"]);
const SERVER_TOOL_TYPES = /^(web_search|web_fetch|code_execution|code_interpreter|file_search|image_generation|mcp|tool_search)/;

/** An explicit stack rather than recursion: no nesting depth skips content or overflows. */
function walk(body: unknown): Acc {
  const acc: Acc = { messages: 0, tools: 0, images: 0, pages: 0, unmeasured: null, unbounded: null };
  const stack: unknown[] = [body];
  const keys: string[] = [""];
  while (stack.length > 0) {
    const v = stack.pop();
    const parentKey = keys.pop()!;
    if (typeof v === "string") {
      if (v.startsWith("data:application/pdf;base64,")) countPdf(v.slice(28), acc);
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      if (MESSAGE_LISTS.has(parentKey)) acc.messages += v.length;
      const tools = TOOL_LISTS.has(parentKey);
      if (tools) acc.tools += v.length;
      for (const x of v) {
        stack.push(x);
        keys.push(tools && parentKey === "tools" ? TOOL_ITEM : "");
      }
      continue;
    }
    const o = v as Record<string, unknown>;
    classify(o, parentKey, acc);
    for (const k in o) {
      stack.push(o[k]);
      keys.push(k);
    }
  }
  return acc;
}

const TOOL_ITEM = "\u0000tool";

function classify(o: Record<string, unknown>, parentKey: string, acc: Acc): void {
  const type = o.type;
  if (parentKey === TOOL_ITEM) {
    // The caller's own tools (functions, Anthropic's computer/bash/editor) return their results in the next body.
    const serverType = typeof type === "string" && SERVER_TOOL_TYPES.test(type) ? type : null;
    const serverField = Object.keys(o).find((k) => SERVER_TOOL_FIELDS.has(k));
    if (serverType ?? serverField) acc.unbounded ??= `The server-side tool '${serverType ?? serverField}' reads input the gateway cannot bound; it is not served through spend limits`;
  }
  if (parentKey === "" && Array.isArray(o.mcp_servers) && o.mcp_servers.length > 0) acc.unbounded ??= "MCP servers read input the gateway cannot bound";
  if (typeof type === "string" && IMAGE_TYPES.has(type)) acc.images++;
  const mime = o.media_type ?? o.mimeType ?? o.mime_type;
  if (typeof mime === "string") {
    if ((parentKey === "inlineData" || parentKey === "inline_data") && mime.startsWith("image/")) acc.images++;
    if (mime === "application/pdf" && typeof o.data === "string") countPdf(o.data, acc);
  }
  for (const k in o) {
    if (REFERENCES.has(k) && typeof o[k] === "string") acc.unmeasured ??= `The referenced file '${String(o[k]).slice(0, 80)}'`;
  }
  // Anthropic: a document read from a URL or the Files API ({ type: "document", source: { type: "url" } }).
  if (type === "document") {
    const source = o.source as { type?: unknown } | undefined;
    if (source && (source.type === "url" || source.type === "file")) acc.unmeasured ??= "A document given by URL or file id";
  }
}

/**
 * Pages of a base64 PDF, counted by their page objects. A page object can hide only in a
 * compressed object stream (/ObjStm); a PDF with one (or no page found) is unmeasured rather than
 * trusted on a /Count it may not keep.
 */
function countPdf(base64: string, acc: Acc): void {
  const text = Buffer.from(base64, "base64").toString("latin1");
  let pages = 0;
  for (const _ of text.matchAll(/\/Type\s*\/Page(?![A-Za-z])/g)) pages++;
  if (pages === 0 || text.includes("/ObjStm")) acc.unmeasured ??= "A PDF whose pages cannot be counted";
  acc.pages += pages;
}

/** The most output tokens a request may produce: what it asks for, capped by the model. */
export function outputTokenBound(op: Operation, body: Record<string, unknown>, modelMax: number): number {
  if (op === "embeddings" || op === "count_tokens" || op === "gemini_count_tokens" || op === "models") return 0;
  const gen = body.generationConfig as Record<string, unknown> | undefined;
  const asked = body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens ?? gen?.maxOutputTokens;
  const n = typeof asked === "number" && Number.isFinite(asked) && asked > 0 ? Math.floor(asked) : modelMax;
  return modelMax > 0 ? Math.min(n, modelMax) : n;
}
