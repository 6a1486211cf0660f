import { bad, isObject, num, refuse, refuseUnknown, type Json } from "../canonical.js";

/** What an OpenAI embeddings body may carry on its way to Gemini (`user` is only a label there). */
const KNOWN = new Set(["model", "input", "encoding_format", "dimensions", "user"]);

/**
 * An OpenAI `/v1/embeddings` body as Gemini's batchEmbedContents: one request per input text,
 * `dimensions` as `outputDimensionality`. Token-id input has no Gemini form and is refused by name.
 */
export function encodeGeminiEmbedRequest(body: Json, model: string, target: string): Json {
  refuseUnknown(body, KNOWN, target);
  const input = body.input;
  const texts = typeof input === "string" ? [input] : Array.isArray(input) && input.every((x) => typeof x === "string") ? input as string[] : null;
  if (!texts) {
    if (Array.isArray(input) && input.length > 0) refuse("input", target, "given as token ids cannot be honoured");
    bad("input", "must be a string or an array of strings");
  }
  if (texts.length === 0 || texts.some((t) => t === "")) bad("input", "must not be empty, nor hold an empty string");
  const dims = body.dimensions;
  if (dims !== undefined && dims !== null && !(Number.isInteger(dims) && (dims as number) > 0)) bad("dimensions", "must be a positive integer");
  const format = body.encoding_format;
  if (format !== undefined && format !== null && format !== "float" && format !== "base64") bad("encoding_format", "must be float or base64");
  const name = `models/${model}`;
  return { requests: texts.map((text) => ({ model: name, content: { parts: [{ text }] }, ...(dims ? { outputDimensionality: dims } : {}) })) };
}

/**
 * Gemini's embeddings as OpenAI's list. `tokens` is what was metered when Gemini reported no
 * usage (older API versions), so the client is told what it is billed for.
 */
export function decodeGeminiEmbedResponse(body: Json, model: string, base64: boolean, tokens: number): Json {
  const list: unknown[] = Array.isArray(body.embeddings) ? body.embeddings : isObject(body.embedding) ? [body.embedding] : [];
  const data = list.map((e, index) => {
    const values = isObject(e) && Array.isArray(e.values) ? e.values.map(Number) : [];
    // The SDKs ask for base64 by default: little-endian float32, as OpenAI sends it.
    const embedding = base64 ? Buffer.from(new Float32Array(values).buffer).toString("base64") : values;
    return { object: "embedding", index, embedding };
  });
  const reported = isObject(body.usageMetadata) ? num(body.usageMetadata.promptTokenCount) : 0;
  const prompt = reported || tokens;
  return { object: "list", data, model, usage: { prompt_tokens: prompt, total_tokens: prompt } };
}
