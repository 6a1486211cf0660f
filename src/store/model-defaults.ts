/**
 * The catalog shipped with Latchkey: current Anthropic, OpenAI and Gemini models and the built-in
 * simulator's models. Prices are USD per million tokens as published by each provider (Claude
 * cache writes at 1.25x input, cache reads at 0.1x; OpenAI and Gemini bill cached input at their
 * cached price and do not charge cache writes). Loaded into an empty catalog at start-up.
 */
export interface DefaultModel {
  id: string;
  provider: string;
  name: string;
  kind: "chat" | "embedding";
  aliases: string[];
  maxOutput: number;
  context: number;
  /** USD per million tokens: input, output, cache write, cache read. */
  usd: [string, string, string, string];
}

const claude = (id: string, name: string, inp: number, out: number, maxOutput: number, aliases: string[] = []): DefaultModel => ({
  id, provider: "anthropic", name, kind: "chat", aliases, maxOutput, context: 200_000,
  usd: [String(inp), String(out), (inp * 1.25).toFixed(4), (inp * 0.1).toFixed(4)],
});

export const DEFAULT_MODELS: DefaultModel[] = [
  claude("claude-opus-4-7", "Claude Opus 4.7", 5, 25, 64_000, ["claude-opus-4-7-latest"]),
  claude("claude-sonnet-4-6", "Claude Sonnet 4.6", 3, 15, 64_000, ["claude-sonnet-4-6-latest"]),
  claude("claude-haiku-4-5", "Claude Haiku 4.5", 1, 5, 64_000, ["claude-haiku-4-5-20251001", "claude-haiku-4-5-latest"]),
  claude("claude-sonnet-4-5", "Claude Sonnet 4.5", 3, 15, 64_000, ["claude-sonnet-4-5-20250929"]),
  claude("claude-opus-4-5", "Claude Opus 4.5", 5, 25, 64_000, ["claude-opus-4-5-20251101"]),
  claude("claude-opus-4-1", "Claude Opus 4.1", 15, 75, 32_000, ["claude-opus-4-1-20250805"]),
  claude("claude-opus-4", "Claude Opus 4", 15, 75, 32_000, ["claude-opus-4-20250514", "claude-opus-4-0"]),
  claude("claude-sonnet-4", "Claude Sonnet 4", 3, 15, 64_000, ["claude-sonnet-4-20250514", "claude-sonnet-4-0"]),
  claude("claude-3-5-haiku", "Claude Haiku 3.5", 0.8, 4, 8_192, ["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"]),
  { id: "gpt-5.1", provider: "openai", name: "GPT-5.1", kind: "chat", aliases: [], maxOutput: 128_000, context: 400_000, usd: ["1.25", "10", "0", "0.125"] },
  { id: "gpt-5", provider: "openai", name: "GPT-5", kind: "chat", aliases: ["gpt-5-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["1.25", "10", "0", "0.125"] },
  { id: "gpt-5-mini", provider: "openai", name: "GPT-5 mini", kind: "chat", aliases: ["gpt-5-mini-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["0.25", "2", "0", "0.025"] },
  { id: "gpt-5-nano", provider: "openai", name: "GPT-5 nano", kind: "chat", aliases: ["gpt-5-nano-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["0.05", "0.4", "0", "0.005"] },
  { id: "gpt-4.1", provider: "openai", name: "GPT-4.1", kind: "chat", aliases: ["gpt-4.1-2025-04-14"], maxOutput: 32_768, context: 1_047_576, usd: ["2", "8", "0", "0.5"] },
  { id: "gpt-4.1-mini", provider: "openai", name: "GPT-4.1 mini", kind: "chat", aliases: ["gpt-4.1-mini-2025-04-14"], maxOutput: 32_768, context: 1_047_576, usd: ["0.4", "1.6", "0", "0.1"] },
  { id: "gpt-4o", provider: "openai", name: "GPT-4o", kind: "chat", aliases: ["gpt-4o-2024-08-06", "gpt-4o-2024-11-20"], maxOutput: 16_384, context: 128_000, usd: ["2.5", "10", "0", "1.25"] },
  { id: "gpt-4o-mini", provider: "openai", name: "GPT-4o mini", kind: "chat", aliases: ["gpt-4o-mini-2024-07-18"], maxOutput: 16_384, context: 128_000, usd: ["0.15", "0.6", "0", "0.075"] },
  { id: "o3", provider: "openai", name: "o3", kind: "chat", aliases: ["o3-2025-04-16"], maxOutput: 100_000, context: 200_000, usd: ["2", "8", "0", "0.5"] },
  { id: "o1", provider: "openai", name: "o1", kind: "chat", aliases: ["o1-2024-12-17"], maxOutput: 100_000, context: 200_000, usd: ["15", "60", "0", "7.5"] },
  { id: "o3-mini", provider: "openai", name: "o3-mini", kind: "chat", aliases: ["o3-mini-2025-01-31"], maxOutput: 100_000, context: 200_000, usd: ["1.1", "4.4", "0", "0.55"] },
  { id: "o4-mini", provider: "openai", name: "o4-mini", kind: "chat", aliases: ["o4-mini-2025-04-16"], maxOutput: 100_000, context: 200_000, usd: ["1.1", "4.4", "0", "0.275"] },
  { id: "text-embedding-3-small", provider: "openai", name: "text-embedding-3-small", kind: "embedding", aliases: [], maxOutput: 0, context: 8_191, usd: ["0.02", "0", "0", "0"] },
  { id: "text-embedding-3-large", provider: "openai", name: "text-embedding-3-large", kind: "embedding", aliases: [], maxOutput: 0, context: 8_191, usd: ["0.13", "0", "0", "0"] },
  { id: "gemini-3-pro-preview", provider: "gemini", name: "Gemini 3 Pro (preview)", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["2", "12", "0", "0.2"] },
  { id: "gemini-2.0-flash", provider: "gemini", name: "Gemini 2.0 Flash", kind: "chat", aliases: ["gemini-2.0-flash-001"], maxOutput: 8_192, context: 1_048_576, usd: ["0.1", "0.4", "0", "0.025"] },
  { id: "gemini-2.5-pro", provider: "gemini", name: "Gemini 2.5 Pro", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["1.25", "10", "0", "0.125"] },
  { id: "gemini-2.5-flash", provider: "gemini", name: "Gemini 2.5 Flash", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["0.3", "2.5", "0", "0.03"] },
  { id: "gemini-2.5-flash-lite", provider: "gemini", name: "Gemini 2.5 Flash-Lite", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["0.1", "0.4", "0", "0.01"] },
  { id: "gemini-embedding-001", provider: "gemini", name: "Gemini Embedding", kind: "embedding", aliases: ["gemini-embedding"], maxOutput: 0, context: 2_048, usd: ["0.15", "0", "0", "0"] },
  { id: "omni-moderation-latest", provider: "openai", name: "Moderation", kind: "embedding", aliases: ["omni-moderation-2024-09-26", "text-moderation-latest"], maxOutput: 0, context: 32_768, usd: ["0", "0", "0", "0"] },
  { id: "gpt-3.5-turbo-instruct", provider: "openai", name: "GPT-3.5 Turbo Instruct (completions)", kind: "chat", aliases: [], maxOutput: 4_096, context: 4_096, usd: ["1.5", "2", "0", "0"] },
  { id: "sim-small", provider: "simulator", name: "Simulator small", kind: "chat", aliases: ["sim"], maxOutput: 8_192, context: 200_000, usd: ["0.1", "0.4", "0.125", "0.01"] },
  { id: "sim-large", provider: "simulator", name: "Simulator large", kind: "chat", aliases: [], maxOutput: 32_000, context: 200_000, usd: ["1", "4", "1.25", "0.1"] },
  { id: "sim-embedding", provider: "simulator", name: "Simulator embedding", kind: "embedding", aliases: [], maxOutput: 0, context: 8_192, usd: ["0.01", "0", "0", "0"] },
];
