import { DEFAULT_LATCHKEY_PREFIXES, isValidLatchkeyKey } from "./checksums.js";
import { B, escapeRegex, rx, type Confidence, type SecretRule } from "./rule-kit.js";
import { looksLikeGenericSecret } from "./generic.js";
import { PROVIDER_RULES } from "./rules-providers.js";
import { PLATFORM_RULES } from "./rules-platform.js";

export type { Confidence, RuleVerdict, SecretRule } from "./rule-kit.js";

export interface RuleOptions {
  /** Latchkey key prefixes of this deployment (defaults lk_live_, lk_test_, lk_pub_, lk_admin_). */
  latchkeyPrefixes?: readonly string[];
}

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

/** Every rule with a fixed id (the Latchkey one is built per deployment). */
const NAMED_RULES: readonly SecretRule[] = [...PROVIDER_RULES, ...PLATFORM_RULES];

const cache = new Map<string, readonly SecretRule[]>();

/** Every rule, the Latchkey one built for the deployment's prefixes. */
export function buildRules(options: RuleOptions = {}): readonly SecretRule[] {
  const prefixes = options.latchkeyPrefixes ?? DEFAULT_LATCHKEY_PREFIXES;
  const cacheKey = prefixes.join("\u0000");
  let rules = cache.get(cacheKey);
  if (!rules) {
    rules = [latchkeyRule(prefixes), ...NAMED_RULES, GENERIC_RULE];
    cache.set(cacheKey, rules);
  }
  return rules;
}

export interface RuleInfo { id: string; description: string; confidence: Confidence }

/** Every rule id a finding can carry, with its description and confidence (the README's table). */
export function ruleCatalog(): RuleInfo[] {
  const out: RuleInfo[] = [{ id: "latchkey-key", description: "Latchkey API key (checksum verified)", confidence: "high" }];
  for (const r of [...NAMED_RULES, GENERIC_RULE]) {
    out.push({ id: r.id, description: r.description, confidence: r.confidence });
    for (const [id, description] of Object.entries(r.variants ?? {})) {
      out.push({ id, description, confidence: id.endsWith("-unverified") ? "low" : r.confidence });
    }
  }
  return out;
}

const DESCRIPTIONS = new Map(ruleCatalog().map((r) => [r.id, r.description]));

export const RULE_IDS: readonly string[] = [...DESCRIPTIONS.keys()];

export function describeRule(ruleId: string): string {
  return DESCRIPTIONS.get(ruleId) ?? ruleId;
}
