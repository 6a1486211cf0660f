/** A regex match of a rule, before it becomes a finding. */
export interface Candidate {
  ruleId: string;
  /** The rule's confidence: wider placeholder words are only safe on low-confidence values. */
  confidence: "high" | "medium" | "low";
  secret: string;
  /** The name the value is assigned to, when the rule captures one (generic, named-value rules, a URL's user). */
  name: string | undefined;
  text: string;
  start: number;
  end: number;
}

/** A named reason not to report a match that has the right shape: each one has its own tests. */
export interface ExclusionRule {
  id: string;
  description: string;
  excludes(c: Candidate): boolean;
}

// Placeholder words of six letters or more almost never occur in random key text (p < 1e-8 a
// word for a 60-character base62 body); shorter ones (test, fake, todo) do, so they are only
// used on the low-confidence generic rule, whose values are not random by construction.
const PLACEHOLDER_WORDS = /example|placeholder|redacted|changeme|change_me|replace_?me|insert[_-]|dummy|sample|your[_-]/i;
const PLACEHOLDER_WORDS_LOW = /example|placeholder|changeme|change_me|your[_-]|dummy|redacted|xxxx|\*\*\*|sample|^test|fake|todo/i;
// Well-known default passwords of database images and tutorials.
const DEFAULT_PASSWORDS = /^(?:pass(?:word)?|passwd|secret|changeme|postgres|mysql|root|admin|test|example|guest|user|redis|mongo)$/i;
// Six identical characters in a row almost never occur in a random key (p < 1e-7 for base64 of
// this length), and constantly occur in placeholders such as "AIza…0000000000".
const RUN = /(.)\1{5}/;
const ELLIPSIS = /(?:\.\.\.|…)$/;
const ENV_REFERENCE = /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\(.*\)|%[A-Za-z_][A-Za-z0-9_]*%|\{\{.*\}\}|<[^<>]+>)$|^(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|System\.getenv|ENV\[|env\()/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_NAME = /(?:^|[_.-])id$|[a-z]Id$|credentials?_?id/i;
const CI_CREDENTIALS_CALL = /\b(?:credentials|credentialsId|usernamePassword|string|file|sshUserPrivateKey)\s*\(\s*(?:credentialsId\s*:\s*)?["']$/;

export const EXCLUSIONS: readonly ExclusionRule[] = [
  {
    id: "placeholder",
    description: "a placeholder written where a key goes (example, your-key-here, redacted, <…>); defaults like postgres:postgres",
    excludes: (c) => {
      if (c.ruleId === "database-url-password") return DEFAULT_PASSWORDS.test(c.secret) || c.secret === c.name || PLACEHOLDER_WORDS.test(c.secret);
      return (c.confidence === "low" ? PLACEHOLDER_WORDS_LOW : PLACEHOLDER_WORDS).test(c.secret);
    },
  },
  {
    id: "documentation-ellipsis",
    description: "a value cut short with ... or … (documentation showing the start or end of a key)",
    excludes: (c) => c.secret.includes("...") || c.secret.includes("…") || /^(?:\.\.\.|…)/.test(c.text.slice(c.end, c.end + 3)) ||
      ELLIPSIS.test(c.text.slice(Math.max(0, c.start - 3), c.start)),
  },
  {
    id: "repeated-characters",
    description: "a run of six or more identical characters (AIza000000…, xxxxxxxx, all-same-character values)",
    excludes: (c) => RUN.test(c.secret),
  },
  {
    id: "environment-reference",
    description: "a reference to where the secret is kept, not the secret ($VAR, ${VAR}, %VAR%, {{ secrets.X }}, process.env.X)",
    excludes: (c) => ENV_REFERENCE.test(c.secret),
  },
  {
    id: "ci-credential-id",
    description: "a CI system's credential id: a UUID named as an id (credentialsId: '…') or passed to credentials('…')",
    excludes: (c) => UUID.test(c.secret) && ((c.name !== undefined && ID_NAME.test(c.name)) ||
      CI_CREDENTIALS_CALL.test(c.text.slice(Math.max(0, c.start - 60), c.start))),
  },
];

/** The first exclusion that applies to a match, or null when it is to be reported. */
export function exclusionFor(c: Candidate, multiline: boolean): ExclusionRule | null {
  for (const rule of EXCLUSIONS) {
    // A PEM block's body is long random base64 with its own material check; only a cut-short one is excluded.
    if (multiline && rule.id !== "documentation-ellipsis") continue;
    if (rule.excludes(c)) return rule;
  }
  return null;
}
