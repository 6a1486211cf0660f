import { openai } from "../openai/index.js";
import type { CredentialInfo, CredentialLink, Provider } from "../types.js";
import { PRESETS, type Preset } from "./presets.js";

export { PRESETS, PRESET_NAMES, type Preset } from "./presets.js";

/** A credential's preset, if it names one. */
class PresetLink implements CredentialLink {
  readonly preset: Preset | null;
  constructor(c: CredentialInfo) {
    this.preset = PRESETS[c.settings.preset ?? ""] ?? null;
  }
  ready(): null {
    return null;
  }
  close(): void {}
}

/**
 * Any server that speaks OpenAI's API at its own base URL: a preset (Mistral, DeepSeek, Groq,
 * xAI, OpenRouter, Together, Fireworks, Ollama, vLLM) gives the base URL, the model families
 * served and the host's quirks; any other host is reached by its base URL alone.
 */
export const openaiCompatible: Provider = {
  ...openai,
  id: "openai-compatible",
  defaultBaseUrl: "http://127.0.0.1:8000/v1",
  baseUrlFor: (settings) => PRESETS[settings.preset ?? ""]?.baseUrl ?? "http://127.0.0.1:8000/v1",
  defaultModels: (settings) => {
    const p = PRESETS[settings.preset ?? ""];
    return p && p.models.length ? p.models : null;
  },
  connect: (c) => new PresetLink(c),
  target(r, baseUrl, secret, link) {
    const t = openai.target(r, baseUrl, secret);
    if (!t || !(link instanceof PresetLink) || !link.preset) return t;
    if (link.preset.noStreamOptions && r.body && "stream_options" in r.body) {
      const { stream_options: _drop, ...rest } = r.body;
      t.body = Buffer.from(JSON.stringify(rest));
    }
    return t;
  },
};
