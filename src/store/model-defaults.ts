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
  { id: "gpt-5", provider: "openai", name: "GPT-5", kind: "chat", aliases: ["gpt-5-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["1.25", "10", "0", "0.125"] },
  { id: "gpt-5-mini", provider: "openai", name: "GPT-5 mini", kind: "chat", aliases: ["gpt-5-mini-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["0.25", "2", "0", "0.025"] },
  { id: "gpt-5-nano", provider: "openai", name: "GPT-5 nano", kind: "chat", aliases: ["gpt-5-nano-2025-08-07"], maxOutput: 128_000, context: 400_000, usd: ["0.05", "0.4", "0", "0.005"] },
  { id: "gpt-4.1", provider: "openai", name: "GPT-4.1", kind: "chat", aliases: ["gpt-4.1-2025-04-14"], maxOutput: 32_768, context: 1_047_576, usd: ["2", "8", "0", "0.5"] },
  { id: "gpt-4.1-mini", provider: "openai", name: "GPT-4.1 mini", kind: "chat", aliases: ["gpt-4.1-mini-2025-04-14"], maxOutput: 32_768, context: 1_047_576, usd: ["0.4", "1.6", "0", "0.1"] },
  { id: "gpt-4o", provider: "openai", name: "GPT-4o", kind: "chat", aliases: ["gpt-4o-2024-08-06", "gpt-4o-2024-11-20"], maxOutput: 16_384, context: 128_000, usd: ["2.5", "10", "0", "1.25"] },
  { id: "gpt-4o-mini", provider: "openai", name: "GPT-4o mini", kind: "chat", aliases: ["gpt-4o-mini-2024-07-18"], maxOutput: 16_384, context: 128_000, usd: ["0.15", "0.6", "0", "0.075"] },
  { id: "o3", provider: "openai", name: "o3", kind: "chat", aliases: ["o3-2025-04-16"], maxOutput: 100_000, context: 200_000, usd: ["2", "8", "0", "0.5"] },
  { id: "o4-mini", provider: "openai", name: "o4-mini", kind: "chat", aliases: ["o4-mini-2025-04-16"], maxOutput: 100_000, context: 200_000, usd: ["1.1", "4.4", "0", "0.275"] },
  { id: "text-embedding-3-small", provider: "openai", name: "text-embedding-3-small", kind: "embedding", aliases: [], maxOutput: 0, context: 8_191, usd: ["0.02", "0", "0", "0"] },
  { id: "text-embedding-3-large", provider: "openai", name: "text-embedding-3-large", kind: "embedding", aliases: [], maxOutput: 0, context: 8_191, usd: ["0.13", "0", "0", "0"] },
  { id: "gemini-2.5-pro", provider: "gemini", name: "Gemini 2.5 Pro", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["1.25", "10", "0", "0.125"] },
  { id: "gemini-2.5-flash", provider: "gemini", name: "Gemini 2.5 Flash", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["0.3", "2.5", "0", "0.03"] },
  { id: "gemini-2.5-flash-lite", provider: "gemini", name: "Gemini 2.5 Flash-Lite", kind: "chat", aliases: [], maxOutput: 65_536, context: 1_048_576, usd: ["0.1", "0.4", "0", "0.01"] },
  { id: "gemini-embedding-001", provider: "gemini", name: "Gemini Embedding", kind: "embedding", aliases: ["gemini-embedding"], maxOutput: 0, context: 2_048, usd: ["0.15", "0", "0", "0"] },
  { id: "sim-small", provider: "simulator", name: "Simulator small", kind: "chat", aliases: ["sim"], maxOutput: 8_192, context: 200_000, usd: ["0.1", "0.4", "0.125", "0.01"] },
  { id: "sim-large", provider: "simulator", name: "Simulator large", kind: "chat", aliases: [], maxOutput: 32_000, context: 200_000, usd: ["1", "4", "1.25", "0.1"] },
  { id: "sim-embedding", provider: "simulator", name: "Simulator embedding", kind: "embedding", aliases: [], maxOutput: 0, context: 8_192, usd: ["0.01", "0", "0", "0"] },
];
