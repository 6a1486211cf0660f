import { openai } from "../openai/index.js";
import type { Provider } from "../types.js";

/** Any server that speaks OpenAI's API at its own base URL (vLLM, Ollama, Together, …). */
export const openaiCompatible: Provider = {
  ...openai,
  id: "openai-compatible",
  defaultBaseUrl: "http://127.0.0.1:8000/v1",
};
