/** Where each provider's keys are revoked and made (provider ids as credentials name them). */
const CONSOLES: Record<string, string> = {
  anthropic: "https://console.anthropic.com/settings/keys",
  openai: "https://platform.openai.com/api-keys",
  gemini: "https://aistudio.google.com/apikey",
  vertex: "https://console.cloud.google.com/iam-admin/serviceaccounts (the service account's Keys tab)",
  bedrock: "https://console.aws.amazon.com/iam/ (the user's access keys) or the Bedrock console's API keys page",
  "azure-openai": "https://portal.azure.com (the resource's Keys and Endpoint page: regenerate the key in use)",
  azure: "https://portal.azure.com (the resource's Keys and Endpoint page: regenerate the key in use)",
};

export interface LeakedCredential {
  id: string;
  name: string;
  provider: string;
}

/**
 * How to rotate a leaked provider credential: revoke it where it was issued (it works for anyone
 * until then), then replace it in Latchkey so the gateway keeps serving.
 */
export function rotationAdvice(c: LeakedCredential): string {
  const where = CONSOLES[c.provider] ?? "the provider's console";
  return `Revoke this ${c.provider} credential at ${where} and create a new one; then store the new secret with ` +
    `\`latchkey credentials add --provider ${c.provider} --name "${c.name}" --stdin\` and remove this one with ` +
    `\`latchkey credentials remove ${c.id}\`.`;
}
