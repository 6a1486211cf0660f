import { anthropic } from "./anthropic/index.js";
import { azureOpenai } from "./azure-openai/index.js";
import { bedrock } from "./bedrock/index.js";
import { gemini } from "./gemini/index.js";
import { openai } from "./openai/index.js";
import { openaiCompatible } from "./openai-compatible/index.js";
import { simulator } from "./simulator/index.js";
import { vertex } from "./vertex/index.js";
import type { Provider, ProviderId } from "./types.js";

/** Every provider, by id. */
export const PROVIDERS: Readonly<Record<ProviderId, Provider>> = {
  anthropic,
  openai,
  gemini,
  "openai-compatible": openaiCompatible,
  "azure-openai": azureOpenai,
  bedrock,
  vertex,
  simulator,
};

export function getProvider(id: string): Provider | null {
  return Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id as ProviderId] : null;
}
