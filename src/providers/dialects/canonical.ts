/**
 * The canonical form of a model call (DESIGN.md, "Providers, codecs and routing"): every dialect's
 * codecs translate to and from these plain-data shapes, so any caller reaches any provider with
 * one codec on each side. Nothing here knows a wire format.
 */
import { createHash } from "node:crypto";
import type { ErrorCode } from "../../errors/index.js";

/** The four generation dialects (OpenAI speaks two). */
export type CodecDialect = "anthropic" | "chat" | "responses" | "gemini";

export type Json = Record<string, unknown>;

export interface TextPart { type: "text"; text: string }
/** An image or a document (PDF, plain text): inline base64 `data`, or a `url` the provider fetches. */
export interface MediaPart { type: "image" | "document"; mediaType: string; data?: string; url?: string; title?: string }
/** A tool call: `args` is the parsed argument object. */
export interface ToolCallPart { type: "tool_call"; id: string; name: string; args: Json }
export interface ToolResultPart { type: "tool_result"; id: string; name?: string; content: (TextPart | MediaPart)[]; isError: boolean }
/**
 * Reasoning text. `signature` is opaque to everyone but `origin`, the model that wrote it
 * (signatureOrigin), and is replayed to that model alone (translation.md §1.1): an Anthropic
 * thinking block's signature, a Gemini thought signature (which may stand alone, with no text,
 * before the part it signed). `redacted`: Anthropic's redacted thinking, its data in `signature`.
 * A codec used on its own names the origin by its dialect; the gateway binds it to the model.
 */
export interface ThinkingPart { type: "thinking"; text: string; signature?: string; origin?: string; redacted?: boolean }

export type Part = TextPart | MediaPart | ToolCallPart | ToolResultPart | ThinkingPart;

export interface Message { role: "user" | "assistant"; parts: Part[] }

export interface Tool { name: string; description?: string; schema: Json; strict?: boolean }

export type ToolChoice = { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type OutputFormat = { type: "json" } | { type: "json_schema"; name: string; schema: Json; strict?: boolean };

export type Effort = "none" | "minimal" | "low" | "medium" | "high";

/** Reasoning asked for: an effort bucket or a token budget (0 turns it off), and whether to show it. */
export interface Reasoning { effort?: Effort; budget?: number; show?: boolean }

export interface CanonicalRequest {
  model: string;
  system: string | null;
  messages: Message[];
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  stop: string[];
  tools: Tool[];
  toolChoice: ToolChoice | null;
  parallelToolCalls: boolean | null;
  output: OutputFormat | null;
  reasoning: Reasoning | null;
  user: string | null;
  stream: boolean;
}

export function emptyRequest(model: string): CanonicalRequest {
  return {
    model, system: null, messages: [], maxTokens: null, temperature: null, topP: null, topK: null, stop: [], tools: [],
    toolChoice: null, parallelToolCalls: null, output: null, reasoning: null, user: null, stream: false,
  };
}

export type StopReason = "end" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** Usage as totals: `input` counts every input token, cached ones included (translation.md §3.3). */
export interface CanonicalUsage { input: number; cacheRead: number; cacheWrite: number; output: number; reasoning: number }

export const NO_USAGE: Readonly<CanonicalUsage> = Object.freeze({ input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0 });

export interface CanonicalResponse {
  id: string;
  model: string;
  parts: (TextPart | ToolCallPart | ThinkingPart)[];
  stop: StopReason;
  usage: CanonicalUsage;
}

/** Stream events (translation.md §1.7). `index` numbers parts in the order they start. */
export type StreamEvent =
  | { type: "start"; id: string; model: string }
  | { type: "part_start"; index: number; kind: "text" | "tool_call" | "thinking"; id?: string; name?: string }
  | { type: "text"; index: number; text: string }
  | { type: "args"; index: number; json: string }
  | { type: "thinking"; index: number; text: string }
  | { type: "signature"; index: number; signature: string; origin: string; redacted?: boolean }
  | { type: "part_stop"; index: number }
  | { type: "usage"; usage: CanonicalUsage }
  | { type: "stop"; reason: StopReason }
  | { type: "error"; code: ErrorCode; message: string };

/** A request the target cannot honour: answered 400 in the caller's dialect, naming the parameter. */
export class TranslationError extends Error {
  override name = "TranslationError";
  constructor(readonly param: string, message: string) {
    super(message);
  }
}

/** Refuses a parameter by name: the target cannot honour it, and dropping it would change the answer. */
export function refuse(param: string, target: string, why = "cannot be honoured"): never {
  throw new TranslationError(param, `${param} ${why} when this model is reached through ${target}'s API; remove it or call the model through its own endpoint.`);
}

export function bad(param: string, message: string): never {
  throw new TranslationError(param, `${param}: ${message}`);
}

const ID_OK = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * One pure id sanitiser, applied to a call's id and its result's id alike so pairs stay matched
 * with no state (translation.md §3.4): valid ids are kept, others become a short hash.
 */
export function safeId(id: string): string {
  if (ID_OK.test(id)) return id;
  return "call_" + createHash("sha256").update(id).digest("base64url").slice(0, 24);
}

/** The tool argument object of a JSON string; an empty string is `{}` (a tool with no arguments). */
export function parseArgs(json: string, param: string): Json {
  if (json.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(json);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Json;
  } catch {
    // answered below
  }
  return bad(param, "tool call arguments must be a JSON object");
}

export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Splits a `data:<mime>;base64,<data>` URL; null for anything else. */
export function splitDataUrl(url: string): { mediaType: string; data: string } | null {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!, data: m[2]! } : null;
}

export function mediaUrl(p: MediaPart): string {
  return p.data !== undefined ? `data:${p.mediaType};base64,${p.data}` : p.url ?? "";
}

/** Budget ↔ effort buckets (translation.md §2.5: Google's 1K/8K/24K, taken as gateway policy everywhere). */
export function budgetOf(r: Reasoning): number {
  if (r.budget !== undefined) return r.budget;
  switch (r.effort) {
    case "none": return 0;
    case "minimal":
    case "low": return 1024;
    case "medium": return 8192;
    default: return 24576;
  }
}

export function effortOf(r: Reasoning): Effort {
  if (r.effort) return r.effort;
  const b = r.budget ?? -1;
  if (b === 0) return "none";
  if (b < 0) return "medium";
  return b <= 1024 ? "low" : b <= 8192 ? "medium" : "high";
}

/** Which fields of a body a decoder understands; any other present field is refused by name. */
export function refuseUnknown(body: Json, known: ReadonlySet<string>, target: string): void {
  for (const k in body) if (body[k] !== undefined && body[k] !== null && !known.has(k)) refuse(k, target, "is not supported");
}

/**
 * Who can verify a signature a provider wrote: the provider family and the model. Anthropic states
 * that its signatures are valid across its own API, Amazon Bedrock and Vertex AI, so a Claude
 * model's signature goes back to that model on any of them (the catalog's model id is the same);
 * a Gemini thought signature is bound to its Gemini model (translation.md §1.1), an OpenAI
 * reasoning item's encrypted content to OpenAI's model. Never to another model: it would refuse it.
 */
export function signatureOrigin(dialect: CodecDialect, model: string): string {
  return `${dialect === "chat" || dialect === "responses" ? "openai" : dialect}/${model}`;
}

/** The provider family of an origin ("anthropic", "gemini", "openai"; a dialect for an unbound one). */
export function originFamily(origin: string | undefined): string {
  if (origin === undefined) return "";
  const slash = origin.indexOf("/");
  return slash < 0 ? origin : origin.slice(0, slash);
}

const SIGNED = "latchkey.";

/**
 * A provider's signature as a caller of another dialect carries it (a thinking block's signature,
 * a thought signature, a reasoning item's encrypted content), tagged with its origin so that it
 * goes back to that model alone; a caller of the origin's own dialect gets the bytes untouched.
 * The tag is `latchkey.<origin, percent-encoded, dots too>.`.
 */
export function wrapSignature(own: CodecDialect, origin: string | undefined, signature: string, redacted = false): string {
  if (!origin || (origin === own && !redacted)) return signature;
  return `${SIGNED}${encodeURIComponent(origin).replace(/\./g, "%2E")}${redacted ? "-redacted" : ""}.${signature}`;
}

/** A signature a caller sent back: the provider's own bytes and their origin (`own` when untagged). */
export function unwrapSignature(own: CodecDialect, signature: string): { signature: string; origin: string; redacted: boolean } {
  if (signature.startsWith(SIGNED)) {
    const dot = signature.indexOf(".", SIGNED.length);
    const tag = dot > 0 ? signature.slice(SIGNED.length, dot) : "";
    const redacted = tag.endsWith("-redacted");
    try {
      const origin = decodeURIComponent(redacted ? tag.slice(0, -"-redacted".length) : tag);
      if (origin !== "") return { signature: signature.slice(dot + 1), origin, redacted };
    } catch {
      // not a tag of ours: the caller's own bytes
    }
  }
  return { signature, origin: own, redacted: false };
}
