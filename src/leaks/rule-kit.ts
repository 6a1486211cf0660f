/**
 * high: a format only this kind of credential has (a prefix, a checksum, a structure);
 * medium: a known shape found under a name that says whose it is (`MISTRAL_API_KEY = …`), or a
 * shape a few vendors share; low: a random-looking value under a secret-looking name.
 */
export type Confidence = "high" | "medium" | "low";

/** What a rule concludes about one regex match: a finding under this id, or nothing. */
export interface RuleVerdict {
  ruleId: string;
  confidence: Confidence;
}

export interface SecretRule {
  id: string;
  description: string;
  confidence: Confidence;
  /** Global regex; the secret is the group named `secret` (or `dq`/`sq`/`bare`), else the whole match. */
  pattern: RegExp;
  /** One of these must occur in the text for the regex to run at all (a cheap pre-check). */
  keywords: readonly string[];
  /** Compare keywords case-insensitively (keywords are then written in lower case). */
  keywordsIgnoreCase?: boolean;
  /** Checks the match (checksum, structure, entropy); null drops it. Default: this rule at its confidence. */
  classify?(secret: string): RuleVerdict | null;
  /** The match may span lines on its own (a PEM block), so joining lines would add nothing. */
  multiline?: boolean;
  /** Rule ids `classify` may answer besides `id`, with their descriptions (a failed checksum, a sub-kind). */
  variants?: Readonly<Record<string, string>>;
}

export const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// Token boundaries: a key is never the middle of a longer run of key characters.
export const B = "(?<![A-Za-z0-9_-])";
export const E = "(?![A-Za-z0-9_-])";
export const rx = (source: string, flags = "g"): RegExp => new RegExp(source, flags);

/** A rule for a fixed prefix followed by a body of known shape; the commonest kind of key. */
export function prefixRule(id: string, description: string, prefix: string, body: string, confidence: Confidence = "high"): SecretRule {
  return { id, description, confidence, pattern: rx(`${B}${escapeRegex(prefix)}${body}${E}`), keywords: [prefix] };
}

/**
 * A value of known shape under a name that says whose it is (`MISTRAL_API_KEY=…`,
 * `"cohere_key": "…"`): for formats with no prefix of their own. `names` is a regex source,
 * matched case-insensitively at the start of the name; `keywords` are lower case.
 */
export function namedValueRule(o: {
  id: string; description: string; names: string; value: string; keywords: readonly string[]; confidence?: Confidence;
}): SecretRule {
  return {
    id: o.id, description: o.description, confidence: o.confidence ?? "medium", keywords: o.keywords, keywordsIgnoreCase: true,
    pattern: rx(
      `(?<name>(?<![A-Za-z0-9])(?:${o.names})[A-Za-z0-9_.-]*)["']?\\]?[ \\t]*(?:=|:=|:|=>)[ \\t]*["']?(?<secret>${o.value})(?![A-Za-z0-9_+/=-])`,
      "gi",
    ),
    classify: (s) => (/[0-9]/.test(s) && /[A-Za-z]/.test(s) ? { ruleId: o.id, confidence: o.confidence ?? "medium" } : null),
  };
}
