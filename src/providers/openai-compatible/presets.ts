/** What differs between OpenAI-compatible hosts (cloud-providers.md, section 4). */
export interface Preset {
  baseUrl: string;
  /** Model patterns a credential serves when it declares none. */
  models: readonly string[];
  /** The host refuses `stream_options` (Mistral answers 422): it is removed, usage comes in the last chunk anyway. */
  noStreamOptions?: boolean;
  /** Local servers often run without a key; a placeholder bearer keeps OpenAI-style servers happy. */
  keyOptional?: boolean;
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  mistral: { baseUrl: "https://api.mistral.ai/v1", models: ["mistral-*", "codestral-*", "magistral-*", "ministral-*", "pixtral-*", "devstral-*", "open-mistral-*"], noStreamOptions: true },
  deepseek: { baseUrl: "https://api.deepseek.com/v1", models: ["deepseek-*"] },
  groq: { baseUrl: "https://api.groq.com/openai/v1", models: ["llama-*", "llama3-*", "meta-llama/*", "openai/gpt-oss-*", "qwen/*", "moonshotai/*", "gemma2-*"] },
  xai: { baseUrl: "https://api.x.ai/v1", models: ["grok-*"] },
  openrouter: { baseUrl: "https://openrouter.ai/api/v1", models: ["*/*"] },
  together: { baseUrl: "https://api.together.xyz/v1", models: ["*/*"] },
  fireworks: { baseUrl: "https://api.fireworks.ai/inference/v1", models: ["accounts/*"] },
  ollama: { baseUrl: "http://127.0.0.1:11434/v1", models: [], keyOptional: true },
  vllm: { baseUrl: "http://127.0.0.1:8000/v1", models: [], keyOptional: true },
};

export const PRESET_NAMES = Object.keys(PRESETS);
