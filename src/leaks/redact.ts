import { maskSecret } from "./mask.js";

// Liberal on purpose: a log line may hold a truncated or mistyped key, and over-masking costs nothing.
const TOKEN_SHAPES = [
  "lk_[a-z]{2,10}_[0-9A-Za-z]{20,}", // Latchkey, any checksum
  "sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{20,}",
  "sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",
  "sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
  "AIza[A-Za-z0-9_-]{35}",
  "gh[pousr]_[0-9A-Za-z]{36}",
  "github_pat_[0-9A-Za-z_]{40,}",
  "(?:AKIA|ASIA)[A-Z2-7]{16}",
  "[sr]k_(?:live|test)_[0-9A-Za-z]{24,}",
  "xox[baprs]-[0-9A-Za-z-]{10,}",
  // The other providers' credentials a deployment holds or sends to.
  "sk-or-v1-[0-9a-f]{20,}", "sk-[0-9a-f]{32}", "gsk_[A-Za-z0-9]{20,}", "xai-[A-Za-z0-9]{20,}", "pplx-[A-Za-z0-9]{20,}",
  "r8_[A-Za-z0-9]{20,}", "hf_[A-Za-z]{20,}", "tgp_v1_[A-Za-z0-9_-]{20,}", "GOCSPX-[A-Za-z0-9_-]{20,}",
  "ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{10,}=*", "bedrock-api-key-[A-Za-z0-9+/]{20,}=*",
  "[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{26}", "[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}",
  "https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9/]{20,}",
  "https://(?:(?:ptb|canary)\\.)?discord(?:app)?\\.com/api/(?:v\\d+/)?webhooks/\\d+/[A-Za-z0-9_-]{20,}",
];
const PEM = "-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
const BEARER = "(?<scheme>\\b[Bb]earer[ \\t]+)(?<bearer>[A-Za-z0-9._~+/-]{8,}=*)(?![A-Za-z0-9._~+/=\u2026-])";

function combined(extraShapes: readonly string[]): RegExp {
  const shapes = [...extraShapes, ...TOKEN_SHAPES].map((s) => `(?<![A-Za-z0-9_-])${s}(?![A-Za-z0-9_-])`);
  return new RegExp([...shapes, PEM, BEARER].join("|"), "g");
}

// A line with none of these substrings cannot hold a secret; most log lines stop here.
const PRECHECK = /lk_|sk-|[sr]k_|AIza|gh[pousr]_|github_pat_|AKIA|ASIA|xox|PRIVATE KEY|earer|gsk_|xai-|pplx-|r8_|hf_|tgp_v1_|GOCSPX-|ABSK|bedrock-api-key-|JQQJ99|Q~|hooks\.slack\.com|webhooks\//;

function replacer(match: string, ...args: unknown[]): string {
  const groups = args[args.length - 1] as { scheme?: string; bearer?: string } | undefined;
  if (groups?.bearer !== undefined) return `${groups.scheme}${maskSecret(groups.bearer)}`;
  return maskSecret(match);
}

const DEFAULT_PATTERN = combined([]);

/** Replaces every key-shaped substring (and bearer token) by its masked form. Safe on every log line. */
export function redactSecrets(text: string): string {
  if (!PRECHECK.test(text)) return text;
  return text.replace(DEFAULT_PATTERN, replacer);
}

/** A redactor that also knows a deployment's custom Latchkey prefixes. */
export function createRedactor(latchkeyPrefixes: readonly string[]): (text: string) => string {
  const escaped = latchkeyPrefixes.map((p) => `${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[0-9A-Za-z]{20,}`);
  const pattern = combined(escaped);
  const precheck = new RegExp(`${PRECHECK.source}|${latchkeyPrefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")}`);
  return (text) => (precheck.test(text) ? text.replace(pattern, replacer) : text);
}

/** pino `redact` paths for the credentials that arrive in headers. */
export const REDACT_HEADER_PATHS: readonly string[] = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["x-goog-api-key"]',
  "req.headers.cookie",
  "headers.authorization",
  'headers["x-api-key"]',
  'headers["x-goog-api-key"]',
  "headers.cookie",
  'res.headers["set-cookie"]',
];

const SECRET_QUERY = /([?&](?:key|api_key|apikey|access_token|token)=)([^&#\s]*)/gi;

/** A URL (or path with a query) with `?key=` and similar credential values masked. */
export function redactUrl(url: string): string {
  const masked = url.replace(SECRET_QUERY, (_, name: string, value: string) => (value ? name + maskSecret(value) : name));
  return redactSecrets(masked);
}
