import { isObject, num, type CanonicalResponse, type CanonicalUsage, type Json, type StopReason } from "../../dialects/canonical.js";
import { encodeAnthropicResponse } from "../../dialects/anthropic/response.js";
import type { Reframer } from "../../types.js";

const STOPS: Record<string, StopReason> = {
  end_turn: "end", tool_use: "tool_use", max_tokens: "max_tokens", stop_sequence: "stop_sequence",
  guardrail_intervened: "refusal", content_filtered: "refusal", model_context_window_exceeded: "max_tokens",
};

export const converseStop = (s: unknown): StopReason => STOPS[String(s)] ?? "end";

/**
 * Converse's TokenUsage → canonical totals. `inputTokens` is read as Anthropic's `input_tokens`
 * is (cached tokens counted apart), which is how AWS bills them.
 */
export function converseUsage(u: unknown): CanonicalUsage {
  const o = isObject(u) ? u : {};
  const cacheRead = num(o.cacheReadInputTokens);
  const cacheWrite = num(o.cacheWriteInputTokens);
  return { input: num(o.inputTokens) + cacheRead + cacheWrite, cacheRead, cacheWrite, output: num(o.outputTokens), reasoning: 0 };
}

/** A Converse answer → canonical. Converse gives no message id: `id` stands in. */
export function decodeConverseResponse(body: Json, id: string): CanonicalResponse {
  const output = isObject(body.output) ? body.output : {};
  const message = isObject(output.message) ? output.message : {};
  const parts: CanonicalResponse["parts"] = [];
  for (const b of Array.isArray(message.content) ? message.content : []) {
    if (!isObject(b)) continue;
    if (typeof b.text === "string") parts.push({ type: "text", text: b.text });
    else if (isObject(b.toolUse)) {
      const t = b.toolUse;
      parts.push({ type: "tool_call", id: String(t.toolUseId ?? ""), name: String(t.name ?? ""), args: isObject(t.input) ? t.input : {} });
    } else if (isObject(b.reasoningContent) && isObject(b.reasoningContent.reasoningText)) {
      const r = b.reasoningContent.reasoningText;
      parts.push({ type: "thinking", text: String(r.text ?? ""), signature: String(r.signature ?? ""), origin: "anthropic" });
    }
  }
  return { id, model: "", parts, stop: converseStop(body.stopReason), usage: converseUsage(body.usage) };
}

/**
 * Rewrites a Converse JSON answer as the Anthropic Message the gateway expects from Bedrock:
 * held whole (a JSON body is not streamed), written at the end.
 */
export class ConverseJsonToAnthropic implements Reframer {
  readonly contentType = "application/json";
  failed: string | null = null;
  private readonly held: Buffer[] = [];

  constructor(private readonly model: string, private readonly requestId: string) {}

  push(chunk: Buffer): Buffer {
    this.held.push(chunk);
    return EMPTY;
  }

  end(): Buffer {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(this.held).toString("utf8"));
    } catch {
      this.failed = "the provider's answer is not JSON";
      return Buffer.from(JSON.stringify({ type: "error", error: { type: "api_error", message: "The provider's answer could not be read." } }));
    }
    const r = decodeConverseResponse(isObject(body) ? body : {}, this.requestId);
    return Buffer.from(JSON.stringify(encodeAnthropicResponse(r, this.model)));
  }
}

const EMPTY = Buffer.alloc(0);
