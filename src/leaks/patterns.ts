import { DEFAULT_LATCHKEY_PREFIXES, isValidGithubTokenChecksum, isValidLatchkeyKey } from "./checksums.js";
import { shannonEntropy } from "./entropy.js";
import { looksLikeGenericSecret } from "./generic.js";

export type Confidence = "high" | "low";

/** What a rule concludes about one regex match: a finding under this id, or nothing. */
export interface RuleVerdict {
  ruleId: string;
  confidence: Confidence;
}

export interface SecretRule {
  id: string;
  description: string;
  confidence: Confidence;
  /** Global regex; the secret is the group named `secret`, else the whole match. */
  pattern: RegExp;
  /** One of these must occur in the text for the regex to run at all (a cheap pre-check). */
  keywords: readonly string[];
  /** Compare keywords case-insensitively (the generic rule only). */
  keywordsIgnoreCase?: boolean;
  /** Checks the match (checksum, entropy); null drops it. Default: this rule at its confidence. */
  classify?(secret: string): RuleVerdict | null;
  /** The match may span lines on its own (a PEM block), so joining lines would add nothing. */
  multiline?: boolean;
}

export interface RuleOptions {
  /** Latchkey key prefixes of this deployment (defaults lk_live_, lk_test_, lk_pub_, lk_admin_). */
  latchkeyPrefixes?: readonly string[];
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// Token boundaries: a key is never the middle of a longer run of key characters.
const B = "(?<![A-Za-z0-9_-])";
const E = "(?![A-Za-z0-9_-])";
const rx = (source: string, flags = "g"): RegExp => new RegExp(source, flags);

function latchkeyRule(prefixes: readonly string[]): SecretRule {
  const alternatives = prefixes.map(escapeRegex).join("|");
  return {
    id: "latchkey-key",
    description: "Latchkey API key (checksum verified)",
    confidence: "high",
    pattern: rx(`${B}(?:${alternatives})[0-9A-Za-z]{36}(?![0-9A-Za-z])`),
    keywords: prefixes,
    classify: (s) => (isValidLatchkeyKey(s, prefixes) ? { ruleId: "latchkey-key", confidence: "high" } : null),
  };
}

const PROVIDER_RULES: readonly SecretRule[] = [
  { id: "anthropic-api-key", description: "Anthropic API key", confidence: "high",
    pattern: rx(`${B}sk-ant-api03-[A-Za-z0-9_-]{93}AA${E}`), keywords: ["sk-ant-api03-"] },
  { id: "anthropic-admin-key", description: "Anthropic Admin API key", confidence: "high",
    pattern: rx(`${B}sk-ant-admin01-[A-Za-z0-9_-]{93}AA${E}`), keywords: ["sk-ant-admin01-"] },
  { id: "openai-project-key", description: "OpenAI project API key", confidence: "high",
    pattern: rx(`${B}sk-proj-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}${E}`), keywords: ["T3BlbkFJ"] },
  { id: "openai-service-account-key", description: "OpenAI service account key", confidence: "high",
    pattern: rx(`${B}sk-svcacct-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}${E}`), keywords: ["T3BlbkFJ"] },
  { id: "openai-admin-key", description: "OpenAI admin key", confidence: "high",
    pattern: rx(`${B}sk-admin-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}${E}`), keywords: ["T3BlbkFJ"] },
  { id: "openai-legacy-key", description: "OpenAI API key (legacy format)", confidence: "high",
    pattern: rx(`${B}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E}`), keywords: ["T3BlbkFJ"] },
  { id: "google-api-key", description: "Google API key (Gemini and other Google APIs)", confidence: "high",
    pattern: rx(`${B}AIza[A-Za-z0-9_-]{35}${E}`), keywords: ["AIza"] },
  { id: "github-token", description: "GitHub token (checksum verified)", confidence: "high",
    pattern: rx(`${B}gh[pousr]_[0-9A-Za-z]{36}${E}`), keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    // A failed checksum may be a look-alike, or a token format GitHub has not documented: keep it, but low.
    classify: (s) => {
      if (isValidGithubTokenChecksum(s)) return { ruleId: "github-token", confidence: "high" };
      return shannonEntropy(s.slice(4)) >= 3 ? { ruleId: "github-token-unverified", confidence: "low" } : null;
    } },
  { id: "github-fine-grained-pat", description: "GitHub fine-grained personal access token", confidence: "high",
    pattern: rx(`${B}github_pat_[0-9A-Za-z_]{82}${E}`), keywords: ["github_pat_"] },
  { id: "aws-access-key-id", description: "AWS access key id", confidence: "high",
    pattern: rx(`(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])`), keywords: ["AKIA", "ASIA"],
    // AWS documentation's own examples end in EXAMPLE.
    classify: (s) => (s.endsWith("EXAMPLE") ? null : { ruleId: "aws-access-key-id", confidence: "high" }) },
  { id: "stripe-secret-key", description: "Stripe secret key", confidence: "high",
    pattern: rx(`${B}sk_(?:live|test)_[0-9A-Za-z]{24,99}${E}`), keywords: ["sk_live_", "sk_test_"] },
  { id: "stripe-restricted-key", description: "Stripe restricted key", confidence: "high",
    pattern: rx(`${B}rk_(?:live|test)_[0-9A-Za-z]{24,99}${E}`), keywords: ["rk_live_", "rk_test_"] },
  { id: "slack-token", description: "Slack token", confidence: "high",
    pattern: rx(`${B}xox[baprs]-[0-9]{1,13}-[0-9A-Za-z-]{20,200}${E}`), keywords: ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"] },
  { id: "private-key", description: "Private key block", confidence: "high", multiline: true,
    pattern: rx("-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----[\\s\\S]{0,16000}?-----END \\1PRIVATE KEY\\2-----"),
    keywords: ["PRIVATE KEY-----"],
    classify: (s) => (hasKeyMaterial(s) ? { ruleId: "private-key", confidence: "high" } : null) },
];

const GENERIC_RULE: SecretRule = {
  id: "generic-secret",
  description: "High-entropy value assigned to a secret-looking name",
  confidence: "low",
  pattern: rx(
    "(?<name>[A-Za-z0-9_.-]*(?:api[_.-]?key|apikey|secret|token|passw(?:or)?d|pwd|credential|access[_.-]?key|auth[_.-]?key)[A-Za-z0-9_.-]*)" +
      "[\"']?\\]?[ \\t]*(?:=|:=|:|=>)[ \\t]*" +
      "(?:\"(?<dq>[^\"'`\\s$<>{}]{12,256})\"|'(?<sq>[^\"'`\\s$<>{}]{12,256})'|(?<bare>[^\\s\"'`,;(){}\\[\\]<>$]{12,256})(?=[\\s,;]|$))",
    "gim",
  ),
  keywords: ["key", "secret", "token", "pass", "pwd", "credential"],
  keywordsIgnoreCase: true,
  classify: (s) => (looksLikeGenericSecret(s) ? { ruleId: "generic-secret", confidence: "low" } : null),
};

/** A PEM block with real key material in it, not a header quoted in docs or a regex. */
function hasKeyMaterial(block: string): boolean {
  const inner = block.replace(/^-----BEGIN[^\n]*?-----/, "").replace(/-----END[^\n]*-----$/, "");
  const compact = inner.replace(/\\[nr]|\s|["'+,]/g, "");
  return /[A-Za-z0-9+/=]{64,}/.test(compact);
}

const cache = new Map<string, readonly SecretRule[]>();

/** Every rule, the Latchkey one built for the deployment's prefixes. */
export function buildRules(options: RuleOptions = {}): readonly SecretRule[] {
  const prefixes = options.latchkeyPrefixes ?? DEFAULT_LATCHKEY_PREFIXES;
  const cacheKey = prefixes.join("\u0000");
  let rules = cache.get(cacheKey);
  if (!rules) {
    rules = [latchkeyRule(prefixes), ...PROVIDER_RULES, GENERIC_RULE];
    cache.set(cacheKey, rules);
  }
  return rules;
}

export const RULE_IDS = [
  "latchkey-key", ...PROVIDER_RULES.map((r) => r.id), "github-token-unverified", GENERIC_RULE.id,
] as const;

export function describeRule(ruleId: string): string {
  if (ruleId === "github-token-unverified") return "GitHub token shape with a failed checksum";
  if (ruleId === "latchkey-key") return "Latchkey API key (checksum verified)";
  return [...PROVIDER_RULES, GENERIC_RULE].find((r) => r.id === ruleId)?.description ?? ruleId;
}
