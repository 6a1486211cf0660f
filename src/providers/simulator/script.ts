/**
 * What the simulator will do for one request: deterministic text, realistic usage and any fault
 * asked for. Faults are requested (in this order of precedence) by:
 *   - the `x-simulator-fault` request header,
 *   - the text `sim-fault:<fault>` anywhere in the request body,
 *   - the credential: an API key containing `fail-<fault>` (so one of several credentials fails).
 * Faults: 429, 500, 503, 529 (an error answer in the caller's dialect), `die` (the stream or body
 * stops half way and the connection is dropped), `slow` (the first byte waits
 * `x-simulator-delay-ms` or `sim-delay:<ms>`, default 2000 ms).
 * With tools declared (and not forbidden), the answer calls the first one, or the forced one, with
 * arguments fitting its schema, unless the last message is a tool's result; with structured output
 * asked for, the text is JSON fitting the schema (simulator/tools.ts).
 * `sim-tokens:<n>` sets how many output tokens to produce (capped by max_tokens);
 * `sim-cache-read:<n>` and `sim-cache-write:<n>` report cached input tokens (each at most the prompt's).
 * `sim-retry-after:<s>` sets the `retry-after` of a cloud's 429 (Azure's is 1 s otherwise).
 * Caps, when given (the gateway's built-in simulator, which serves test keys), bound what a caller
 * can ask for: output tokens and the slow fault's delay.
 */
export type Fault = "429" | "500" | "503" | "529" | "die" | "slow";
const FAULTS = new Set<string>(["429", "500", "503", "529", "die", "slow"]);

export interface SimulatorCaps {
  maxOutputTokens: number;
  maxDelayMs: number;
}

/** What a test key may ask of the built-in simulator: enough for any test, not enough to stall a node. */
export const TEST_KEY_CAPS: SimulatorCaps = { maxOutputTokens: 32_768, maxDelayMs: 30_000 };

export interface Script {
  fault: Fault | null;
  delayMs: number;
  words: string[];
  inputTokens: number;
  cacheRead: number;
  cacheWrite: number;
  /** Seconds a cloud's 429 asks the caller to wait, when the request names them. */
  retryAfterS: number | null;
  stopReason: "end" | "max_tokens";
}

const VOCABULARY = "Hello from the Latchkey simulator . This answer is deterministic , streamed one token at a time , and billed like a real model".split(" ");
export const DEFAULT_OUTPUT_TOKENS = 12;

/**
 * The text a model would read: every string in the request but the model name. Counting this
 * rather than the raw body keeps input usage the same whether or not a request streams (the
 * envelope's `stream` and `stream_options` fields are not prompt).
 */
export function promptText(body: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown, key: string) => {
    if (typeof v === "string") {
      if (key !== "model") out.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(body, "");
  return out.join("\n");
}

export function planScript(bodyText: string, headers: Record<string, string | string[] | undefined>, maxTokens: number | null, prompt: string, caps: SimulatorCaps | null = null): Script {
  const headerFault = String(headers["x-simulator-fault"] ?? "");
  const auth = String(headers.authorization ?? headers["x-api-key"] ?? headers["x-goog-api-key"] ?? headers["api-key"] ?? "");
  const fault = FAULTS.has(headerFault) ? headerFault
    : (/sim-fault:(\w+)/.exec(bodyText)?.[1] ?? /fail-(\w+)/.exec(auth)?.[1] ?? null);
  const wanted = Number(/sim-tokens:(\d+)/.exec(bodyText)?.[1] ?? DEFAULT_OUTPUT_TOKENS);
  const asked = caps ? Math.min(wanted, caps.maxOutputTokens) : wanted;
  const count = maxTokens !== null && maxTokens < asked ? maxTokens : asked;
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push((i === 0 ? "" : " ") + VOCABULARY[i % VOCABULARY.length]);
  // About four bytes a token, as real tokenizers average on English text; cached parts are parts of the prompt.
  const inputTokens = Math.max(1, Math.ceil(Buffer.byteLength(prompt) / 4));
  const cacheRead = Math.min(inputTokens, Number(/sim-cache-read:(\d+)/.exec(bodyText)?.[1] ?? 0));
  const cacheWrite = Math.min(inputTokens, Number(/sim-cache-write:(\d+)/.exec(bodyText)?.[1] ?? 0));
  const delay = Number(headers["x-simulator-delay-ms"] ?? /sim-delay:(\d+)/.exec(bodyText)?.[1] ?? 2000);
  const retryAfter = /sim-retry-after:(\d+)/.exec(bodyText);
  return {
    fault: fault && FAULTS.has(fault) ? (fault as Fault) : null,
    delayMs: caps ? Math.min(Number.isFinite(delay) ? delay : 0, caps.maxDelayMs) : delay,
    words,
    inputTokens,
    cacheRead,
    cacheWrite,
    retryAfterS: retryAfter ? Number(retryAfter[1]) : null,
    stopReason: count < asked ? "max_tokens" : "end",
  };
}

let counter = 0;
/** A simulator id: deterministic shape, unique per process. */
export function simId(prefix: string): string {
  counter = (counter + 1) % 1e9;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(6, "0")}`;
}
