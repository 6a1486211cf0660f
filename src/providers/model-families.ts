import { usdPerMTokToMicro } from "../lib/money.js";
import type { ModelFamily } from "../store/index.js";

/**
 * Which provider serves a model the catalog does not list, by its name: a model released
 * tomorrow works today. Tried in order; `LATCHKEY_MODEL_PATTERNS` replaces the list.
 */
export const DEFAULT_MODEL_PATTERNS = "claude-*=anthropic,gpt-*=openai,o[0-9]*=openai,chatgpt-*=openai,gemini-*=gemini";

export interface ProviderPattern {
  pattern: string;
  provider: string;
  test: RegExp;
}

/** Parses `glob=provider,glob=provider`; throws on a malformed entry (the config fails at start-up). */
export function parseModelPatterns(text: string): ProviderPattern[] {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((entry) => {
    const at = entry.lastIndexOf("=");
    const pattern = entry.slice(0, at).trim();
    const provider = entry.slice(at + 1).trim();
    if (at <= 0 || !provider) throw new Error(`model pattern '${entry}' is not 'glob=provider'`);
    return { pattern, provider, test: globToRegExp(pattern) };
  });
}

/** A glob: `*` any run of characters, `?` one, `[0-9]` a class; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else if (ch === "[" && glob.indexOf("]", i + 2) > i) {
      const end = glob.indexOf("]", i + 2);
      out += `[${glob.slice(i + 1, end).replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else out += ch.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

const family = (pattern: string, provider: string, usd: [string, string, string, string], maxOutputTokens: number, contextWindow: number, kind: "chat" | "embedding" = "chat"): ModelFamily => {
  const [input, output, cacheWrite, cacheRead] = usd.map((u) => usdPerMTokToMicro(u)) as [number, number, number, number];
  return { pattern, provider, kind, maxOutputTokens, contextWindow, price: { input, output, cacheWrite, cacheRead } };
};

/**
 * The shipped family price list: a model the catalog does not list is priced like the newest
 * listed model of its family (USD per million tokens: input, output, cache write, cache read).
 * The first matching family wins, so narrower patterns come first. `latchkey models import`
 * adds families that are tried before these.
 */
export const SHIPPED_FAMILIES: readonly ModelFamily[] = [
  family("claude-opus-*", "anthropic", ["5", "25", "6.25", "0.5"], 128_000, 200_000),
  family("claude-sonnet-*", "anthropic", ["3", "15", "3.75", "0.3"], 128_000, 200_000),
  family("claude-haiku-*", "anthropic", ["1", "5", "1.25", "0.1"], 64_000, 200_000),
  family("gpt-*nano*", "openai", ["0.05", "0.4", "0", "0.005"], 128_000, 400_000),
  family("gpt-*mini*", "openai", ["0.25", "2", "0", "0.025"], 128_000, 400_000),
  family("gpt-*", "openai", ["1.25", "10", "0", "0.125"], 128_000, 400_000),
  family("o[0-9]*-mini*", "openai", ["1.1", "4.4", "0", "0.275"], 100_000, 200_000),
  family("o[0-9]*", "openai", ["2", "8", "0", "0.5"], 100_000, 200_000),
  family("text-embedding-*", "openai", ["0.13", "0", "0", "0"], 0, 8_191, "embedding"),
  family("gemini-*embedding*", "gemini", ["0.15", "0", "0", "0"], 0, 2_048, "embedding"),
  family("gemini-*flash-lite*", "gemini", ["0.1", "0.4", "0", "0.01"], 65_536, 1_048_576),
  family("gemini-*flash*", "gemini", ["0.3", "2.5", "0", "0.03"], 65_536, 1_048_576),
  family("gemini-*pro*", "gemini", ["1.25", "10", "0", "0.125"], 65_536, 1_048_576),
];
