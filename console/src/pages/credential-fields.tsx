import { Field, Select } from "../ui";

/** The settings each provider takes, as the API names them (see the README's provider table). */
const SETTINGS: Record<string, Array<{ key: string; label: string; hint?: string; options?: Array<[string, string]> }>> = {
  bedrock: [
    { key: "region", label: "AWS region", hint: "e.g. us-east-1; the request is signed for it." },
    { key: "api", label: "Bedrock API", options: [["", "InvokeModel for Anthropic models, Converse for the others"], ["converse", "Converse for every model"]] },
  ],
  vertex: [
    { key: "region", label: "Location", hint: "us-east5, europe-west1, global…" },
    { key: "project", label: "Google Cloud project", hint: "Default: the service account's project." },
  ],
  "azure-openai": [
    { key: "resource", label: "Azure resource", hint: "https://<resource>.openai.azure.com (or give a base URL)." },
    { key: "api_version", label: "API version", hint: "Default 2024-10-21." },
    { key: "authority_host", label: "Entra authority host", hint: "Only for Entra ID apps outside the public cloud." },
  ],
  "openai-compatible": [
    { key: "preset", label: "Preset", options: [["", "None (give a base URL)"], ...["mistral", "deepseek", "groq", "xai", "openrouter", "together", "fireworks", "ollama", "vllm"].map((p): [string, string] => [p, p])] },
  ],
};

export const PROVIDER_OPTIONS: Array<[string, string]> = [
  ["anthropic", "Anthropic"], ["openai", "OpenAI"], ["gemini", "Google Gemini"], ["openai-compatible", "OpenAI-compatible"],
  ["bedrock", "AWS Bedrock"], ["vertex", "Google Vertex AI"], ["azure-openai", "Azure OpenAI"],
];

/** What each provider's secret is. */
export const SECRET_HINTS: Record<string, string> = {
  bedrock: "JSON {\"access_key_id\", \"secret_access_key\", \"session_token\"?} or a Bedrock API key. Write-only.",
  vertex: "The service account's JSON key. Write-only.",
  "azure-openai": "The api-key, or JSON {\"tenant_id\", \"client_id\", \"client_secret\"} for Entra ID. Write-only.",
};

/** The provider's setting fields; `values` holds them by API name. */
export function SettingFields({ provider, values, onChange }: { provider: string; values: Record<string, string>; onChange: (v: Record<string, string>) => void }) {
  return (
    <>
      {(SETTINGS[provider] ?? []).map((s) => s.options
        ? <Select key={s.key} label={s.label} value={values[s.key] ?? ""} onChange={(e) => onChange({ ...values, [s.key]: e.target.value })} options={s.options} />
        : <Field key={s.key} label={s.label} hint={s.hint} value={values[s.key] ?? ""} onChange={(e) => onChange({ ...values, [s.key]: e.target.value })} />)}
    </>
  );
}

/** The settings to send: empty fields left out (on a change, sent as null so they are removed). */
export function settingsBody(provider: string, values: Record<string, string>, removeEmpty: boolean): Record<string, string | null> | undefined {
  const out: Record<string, string | null> = {};
  for (const s of SETTINGS[provider] ?? []) {
    const v = (values[s.key] ?? "").trim();
    if (v) out[s.key] = v;
    else if (removeEmpty) out[s.key] = null;
  }
  return Object.keys(out).length ? out : undefined;
}

const DIALECT_SUFFIX = /\s*\((anthropic|chat|responses|gemini)\)$/;

/**
 * `claude-sonnet-4-6=us.anthropic.claude-sonnet-4-6, gpt-4o-mini (chat)` → the API's models list:
 * each with =its name upstream, and (the API its host takes) when not the provider's usual one.
 */
export function parseModels(text: string): Array<string | { model: string; upstream?: string; dialect?: string; priority?: number; weight?: number; prices?: ModelEntry["prices"] }> {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((entry) => {
    const dialect = DIALECT_SUFFIX.exec(entry)?.[1];
    const m = dialect ? entry.replace(DIALECT_SUFFIX, "") : entry;
    const eq = m.indexOf("=");
    if (eq < 0) return dialect ? { model: m, dialect } : m;
    return { model: m.slice(0, eq).trim(), upstream: m.slice(eq + 1).trim(), ...(dialect ? { dialect } : {}) };
  });
}

/** A model entry as the API gives it. */
export interface ModelEntry {
  model: string;
  upstream: string | null;
  dialect?: string | null;
  priority?: number | null;
  weight?: number | null;
  prices?: { input_usd: string; output_usd: string; cache_write_usd?: string; cache_read_usd?: string } | null;
}

export function modelsText(models: ModelEntry[]): string {
  return models.map((m) => (m.upstream ? `${m.model}=${m.upstream}` : m.model) + (m.dialect ? ` (${m.dialect})` : "")).join(", ");
}

/**
 * The edited text back into entries. The text shows only ids, upstream names and APIs, so an entry
 * that was there before (the same id and upstream name) keeps what the text does not show: its own
 * priority, weight and prices, set through the API or the CLI. Saving an edit drops none of them.
 */
export function editedModels(text: string, before: readonly ModelEntry[]): ReturnType<typeof parseModels> {
  return parseModels(text).map((entry) => {
    const model = typeof entry === "string" ? entry : entry.model;
    const upstream = typeof entry === "string" ? null : entry.upstream ?? null;
    const was = before.find((b) => b.model === model && (b.upstream ?? null) === upstream);
    if (!was || (was.priority == null && was.weight == null && !was.prices)) return entry;
    return {
      ...(typeof entry === "string" ? { model: entry } : entry),
      ...(was.priority != null ? { priority: was.priority } : {}),
      ...(was.weight != null ? { weight: was.weight } : {}),
      ...(was.prices ? { prices: was.prices } : {}),
    };
  });
}
