import type { Operation } from "./types.js";

/** Token allowance per message, tool and image on top of the text's bytes (framing, roles, images). */
export const PER_MESSAGE_TOKENS = 16;
export const PER_TOOL_TOKENS = 64;
export const PER_IMAGE_TOKENS = 1_600;

/**
 * An upper bound of the input tokens of a request with no tokenizer: a byte-level BPE token
 * covers at least one byte, so the UTF-8 byte length of every string in the body bounds the text's
 * tokens; each message, tool and image adds a fixed allowance. Base64 image data is not counted
 * as text (an image costs its allowance, whatever its bytes).
 */
export function inputTokenBound(body: unknown): number {
  const acc = { bytes: 0, messages: 0, tools: 0, images: 0 };
  walk(body, acc, 0, "");
  return acc.bytes + acc.messages * PER_MESSAGE_TOKENS + acc.tools * PER_TOOL_TOKENS + acc.images * PER_IMAGE_TOKENS;
}

interface Acc { bytes: number; messages: number; tools: number; images: number }

const MESSAGE_LISTS = new Set(["messages", "contents", "input"]);
const IMAGE_TYPES = new Set(["image", "image_url", "input_image", "inlineData", "inline_data", "document"]);

function walk(v: unknown, acc: Acc, depth: number, parentKey: string): void {
  if (depth > 64) return;
  if (typeof v === "string") {
    acc.bytes += Buffer.byteLength(v, "utf8");
    return;
  }
  if (Array.isArray(v)) {
    if (MESSAGE_LISTS.has(parentKey)) acc.messages += v.length;
    else if (parentKey === "tools" || parentKey === "functionDeclarations") acc.tools += v.length;
    for (const x of v) walk(x, acc, depth + 1, "");
    return;
  }
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (k === "model" || k === "stream") continue;
      const x = o[k];
      // An image costs its allowance, not the bytes of its base64 data or URL.
      if (IMAGE_TYPES.has(k)) {
        acc.images++;
        continue;
      }
      if (k === "type" && typeof x === "string" && IMAGE_TYPES.has(x)) acc.images++;
      if (k === "source" && typeof x === "object" && x !== null && (x as { type?: string }).type === "base64") continue;
      walk(x, acc, depth + 1, k);
    }
  }
}

/** The most output tokens a request may produce: what it asks for, capped by the model. */
export function outputTokenBound(op: Operation, body: Record<string, unknown>, modelMax: number): number {
  if (op === "embeddings" || op === "count_tokens" || op === "gemini_count_tokens" || op === "models") return 0;
  const gen = body.generationConfig as Record<string, unknown> | undefined;
  const asked = body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens ?? gen?.maxOutputTokens;
  const n = typeof asked === "number" && Number.isFinite(asked) && asked > 0 ? Math.floor(asked) : modelMax;
  return modelMax > 0 ? Math.min(n, modelMax) : n;
}
