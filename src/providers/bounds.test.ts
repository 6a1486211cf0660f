import { describe, expect, it } from "vitest";
import { inputTokenBound, outputTokenBound, PER_MESSAGE_TOKENS } from "./bounds.js";

describe("token bounds", () => {
  it("bounds input by UTF-8 bytes plus a per-message allowance", () => {
    const body = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "héllo" }] };
    // "user" 4 bytes + "héllo" 6 bytes
    expect(inputTokenBound(body)).toBe(10 + PER_MESSAGE_TOKENS);
  });

  it("takes the output bound from each dialect's field, capped by the model", () => {
    expect(outputTokenBound("messages", { max_tokens: 100 }, 64_000)).toBe(100);
    expect(outputTokenBound("chat", {}, 16_384)).toBe(16_384);
    expect(outputTokenBound("responses", { max_output_tokens: 1e9 }, 1000)).toBe(1000);
    expect(outputTokenBound("generate", { generationConfig: { maxOutputTokens: 7 } }, 1000)).toBe(7);
    expect(outputTokenBound("embeddings", { max_tokens: 5 }, 0)).toBe(0);
  });
});
