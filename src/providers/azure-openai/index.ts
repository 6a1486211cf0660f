import { chatCodec } from "../dialects/chat/index.js";
import { splitBaseUrl, type Provider } from "../types.js";
import { AzureAuth } from "./entra.js";

export { AzureAuth } from "./entra.js";

/** Caller headers Azure OpenAI gets: the body's type and what is accepted (preview-feature headers are the organization's to turn on). */
const AZURE_CLIENT_HEADERS = ["content-type", "accept"] as const;

/**
 * Azure OpenAI: Chat Completions and embeddings on deployment URLs with `api-version`; Responses
 * on the v1 surface (the deployment name in `model`). The model's upstream name is the
 * deployment's name. Auth: `api-key`, or an Entra ID token.
 */
export const azureOpenai: Provider = {
  id: "azure-openai",
  dialects: ["openai"],
  codec: chatCodec,
  defaultBaseUrl: "https://example.openai.azure.com",
  requiredSettings: ["resource"],
  baseUrlFor: (settings) => `https://${settings.resource ?? "example"}.openai.azure.com`,
  defaultModels: () => null,
  connect: (c) => new AzureAuth(c),
  target(r, baseUrl, _secret, link) {
    if (r.dialect !== "openai" || !(link instanceof AzureAuth)) return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const auth = [link.header()];
    const version = `?api-version=${encodeURIComponent(link.apiVersion)}`;
    const deployment = encodeURIComponent(r.model);
    if (r.op === "chat") return { origin, path: `${prefix}/openai/deployments/${deployment}/chat/completions${version}`, auth, dialect: "openai", clientHeaders: AZURE_CLIENT_HEADERS };
    if (r.op === "embeddings") return { origin, path: `${prefix}/openai/deployments/${deployment}/embeddings${version}`, auth, dialect: "openai", clientHeaders: AZURE_CLIENT_HEADERS };
    if (r.op === "responses") return { origin, path: `${prefix}/openai/v1/responses`, auth, dialect: "openai", clientHeaders: AZURE_CLIENT_HEADERS };
    return null;
  },
};
