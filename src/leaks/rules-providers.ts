import { B, E, namedValueRule, prefixRule, rx, type SecretRule } from "./rule-kit.js";
import { shannonEntropy } from "./entropy.js";
import { isBedrockLongTermKey, isBedrockShortTermKey } from "./structure.js";

// The credentials of every provider a Latchkey deployment can hold or send to. Shapes follow the
// vendors' documentation and the keys their consoles issue; where a format has no prefix of its
// own, the rule asks for a name that says whose it is and answers with medium confidence.

const OPENAI_MARKER = "T3BlbkFJ"; // base64 of "OpenAI", inside every current OpenAI key
const B64_START = "(?<![A-Za-z0-9+/_-])";
const B64_END = "(?![A-Za-z0-9+/=_-])";

function openaiRule(id: string, description: string, kind: string): SecretRule {
  return {
    id, description, confidence: "high", keywords: [OPENAI_MARKER],
    pattern: rx(`${B}sk-${kind}-[A-Za-z0-9_-]{20,200}${OPENAI_MARKER}[A-Za-z0-9_-]{20,200}${E}`),
  };
}

const AI_RULES: readonly SecretRule[] = [
  prefixRule("anthropic-api-key", "Anthropic API key", "sk-ant-api03-", "[A-Za-z0-9_-]{93}AA"),
  prefixRule("anthropic-admin-key", "Anthropic Admin API key", "sk-ant-admin01-", "[A-Za-z0-9_-]{93}AA"),
  openaiRule("openai-project-key", "OpenAI project API key", "proj"),
  openaiRule("openai-service-account-key", "OpenAI service account key", "svcacct"),
  openaiRule("openai-admin-key", "OpenAI admin key", "admin"),
  { id: "openai-legacy-key", description: "OpenAI API key (legacy format)", confidence: "high",
    pattern: rx(`${B}sk-[A-Za-z0-9]{20}${OPENAI_MARKER}[A-Za-z0-9]{20}${E}`), keywords: [OPENAI_MARKER] },
  prefixRule("google-api-key", "Google API key (Gemini and other Google APIs)", "AIza", "[A-Za-z0-9_-]{35}"),
  { id: "google-service-account-key", description: "Google Cloud service-account key file (Vertex AI; its private key id)",
    confidence: "high", multiline: true, keywords: ["service_account"],
    // The key file's fields come in this order (type, project_id, private_key_id, …), escaped or not.
    pattern: rx(`\\\\?"type\\\\?"\\s*:\\s*\\\\?"service_account\\\\?"[\\s\\S]{0,600}?\\\\?"private_key_id\\\\?"\\s*:\\s*\\\\?"(?<secret>[0-9a-f]{40})\\\\?"`) },
  prefixRule("google-oauth-client-secret", "Google OAuth client secret", "GOCSPX-", "[A-Za-z0-9_-]{28}"),
  { id: "aws-access-key-id", description: "AWS access key id (Bedrock and every AWS API)", confidence: "high",
    pattern: rx(`(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])`), keywords: ["AKIA", "ASIA"],
    // AWS documentation's own examples end in EXAMPLE.
    classify: (s) => (s.endsWith("EXAMPLE") ? null : { ruleId: "aws-access-key-id", confidence: "high" }) },
  { ...namedValueRule({
    id: "aws-secret-access-key", description: "AWS secret access key (under an AWS secret name)", confidence: "high",
    names: "aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|aws_?secret", value: "[A-Za-z0-9/+]{40}",
    keywords: ["aws_secret", "awssecret", "secret_access_key", "secretaccesskey"],
  }), classify: (s) => (shannonEntropy(s) >= 4 ? { ruleId: "aws-secret-access-key", confidence: "high" } : null) },
  { id: "aws-bedrock-api-key", description: "AWS Bedrock API key, long-term (structure verified)", confidence: "high",
    keywords: ["ABSK"], pattern: rx(`${B64_START}ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{20,600}={0,2}${B64_END}`),
    classify: (s) => (isBedrockLongTermKey(s) ? { ruleId: "aws-bedrock-api-key", confidence: "high" } : null) },
  { id: "aws-bedrock-short-term-api-key", description: "AWS Bedrock API key, short-term (structure verified)", confidence: "high",
    keywords: ["bedrock-api-key-"], pattern: rx(`${B64_START}bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{40,6000}={0,2}${B64_END}`),
    classify: (s) => (isBedrockShortTermKey(s) ? { ruleId: "aws-bedrock-short-term-api-key", confidence: "high" } : null) },
  { id: "azure-openai-key", description: "Azure OpenAI / Azure AI services key", confidence: "high", keywords: ["JQQJ99"],
    pattern: rx(`(?<![A-Za-z0-9])[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}ACOG[A-Za-z0-9]{4}(?![A-Za-z0-9])`) },
  namedValueRule({
    id: "azure-openai-key-legacy", description: "Azure OpenAI key, 32-hex format (under an Azure or api-key name)",
    names: "azure[a-z0-9_.-]*key|api-key", value: "[0-9a-f]{32}", keywords: ["azure", "api-key"],
  }),
  { id: "azure-entra-client-secret", description: "Microsoft Entra ID (Azure AD) client secret", confidence: "high", keywords: ["Q~"],
    pattern: rx("(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])"),
    classify: (s) => (shannonEntropy(s) >= 3.5 ? { ruleId: "azure-entra-client-secret", confidence: "high" } : null) },
  namedValueRule({ id: "mistral-api-key", description: "Mistral AI API key (under a Mistral name)", names: "mistral", value: "[A-Za-z0-9]{32}", keywords: ["mistral"] }),
  prefixRule("deepseek-api-key", "DeepSeek API key (sk- and 32 hex; a shape a few vendors share)", "sk-", "[0-9a-f]{32}", "medium"),
  prefixRule("groq-api-key", "Groq API key", "gsk_", "[A-Za-z0-9]{52}"),
  prefixRule("xai-api-key", "xAI API key", "xai-", "[A-Za-z0-9]{80}"),
  prefixRule("openrouter-api-key", "OpenRouter API key", "sk-or-v1-", "[0-9a-f]{64}"),
  prefixRule("together-api-key", "Together AI API key", "tgp_v1_", "[A-Za-z0-9_-]{43}"),
  namedValueRule({
    id: "together-api-key-legacy", description: "Together AI API key, 64-hex format (under a Together name)",
    names: "together", value: "[0-9a-f]{64}", keywords: ["together"],
  }),
  { ...prefixRule("fireworks-api-key", "Fireworks AI API key", "fw_", "[A-Za-z0-9]{24}", "medium"),
    // fw_ also starts identifiers (fw_version…): a key mixes digits, upper and lower case.
    classify: (s) => (/[0-9]/.test(s) && /[A-Z]/.test(s.slice(3)) && /[a-z]/.test(s.slice(3)) ? { ruleId: "fireworks-api-key", confidence: "medium" } : null) },
  prefixRule("perplexity-api-key", "Perplexity API key", "pplx-", "[A-Za-z0-9]{48}"),
  prefixRule("replicate-api-token", "Replicate API token", "r8_", "[A-Za-z0-9]{37}"),
  prefixRule("huggingface-token", "Hugging Face access token", "hf_", "[A-Za-z]{34}"),
  namedValueRule({
    id: "cohere-api-key", description: "Cohere API key (under a Cohere name)", names: "cohere|co_api_key",
    value: "[A-Za-z0-9]{40}", keywords: ["cohere", "co_api_key"],
  }),
];

export const PROVIDER_RULES: readonly SecretRule[] = AI_RULES;
