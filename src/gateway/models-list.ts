import type { CatalogModel } from "../store/index.js";
import type { WireDialect } from "../providers/index.js";

const EPOCH_2025 = Date.UTC(2025, 0, 1);

function created(m: CatalogModel): number {
  return Math.max(m.createdAt, EPOCH_2025);
}

/** Whether a model belongs in a dialect's list: its own provider's models and the simulator's. */
function listedIn(dialect: WireDialect, m: CatalogModel): boolean {
  if (dialect === "openai") return true; // Chat Completions reaches every provider.
  return m.provider === dialect || m.provider === "simulator";
}

/** The model list (or one model) in the dialect's shape; null when a named model is not listed. */
export function renderModels(dialect: WireDialect, models: readonly CatalogModel[], one: CatalogModel | null, named: boolean): unknown {
  const visible = models.filter((m) => listedIn(dialect, m));
  if (named) return one && listedIn(dialect, one) ? item(dialect, one) : null;
  if (dialect === "gemini") return { models: visible.map((m) => item("gemini", m)) };
  if (dialect === "anthropic") {
    return { data: visible.map((m) => item("anthropic", m)), has_more: false, first_id: visible[0]?.id ?? null, last_id: visible.at(-1)?.id ?? null };
  }
  return { object: "list", data: visible.map((m) => item("openai", m)) };
}

function item(dialect: WireDialect, m: CatalogModel): unknown {
  switch (dialect) {
    case "anthropic":
      return { id: m.id, type: "model", display_name: m.displayName, created_at: new Date(created(m)).toISOString(), max_input_tokens: m.contextWindow, max_tokens: m.maxOutputTokens };
    case "openai":
      return { id: m.id, object: "model", created: Math.floor(created(m) / 1000), owned_by: m.provider };
    case "gemini":
      return {
        name: `models/${m.id}`, version: "001", displayName: m.displayName, inputTokenLimit: m.contextWindow, outputTokenLimit: m.maxOutputTokens,
        supportedGenerationMethods: m.kind === "embedding" ? ["embedContent"] : ["generateContent", "streamGenerateContent", "countTokens"],
      };
  }
}
