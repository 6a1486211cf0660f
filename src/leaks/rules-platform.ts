import { pemBody } from "../lib/index.js";
import { isValidGithubTokenChecksum, pgpArmorChecksum } from "./checksums.js";
import { shannonEntropy } from "./entropy.js";
import { B, E, prefixRule, rx, type RuleVerdict, type SecretRule } from "./rule-kit.js";
import { isOpenSshKeyBlock } from "./structure.js";

// The things around the providers' keys: code hosts, payments, chat tokens and webhooks (Latchkey
// posts alerts to them), private keys, database URLs.

/** A PEM-style block with real key material in it, not a header quoted in docs or a regex. */
function hasKeyMaterial(block: string): boolean {
  return /[A-Za-z0-9+/=]{64,}/.test(pemBody(block));
}

/** Which kind of private key a block is, from its header and what its body decodes to. */
function classifyPrivateKey(block: string): RuleVerdict | null {
  if (!hasKeyMaterial(block)) return null;
  if (block.startsWith("-----BEGIN PGP")) {
    return pgpArmorChecksum(block) === false
      ? { ruleId: "pgp-private-key-unverified", confidence: "low" }
      : { ruleId: "pgp-private-key", confidence: "high" };
  }
  if (block.startsWith("-----BEGIN OPENSSH")) {
    return isOpenSshKeyBlock(block) ? { ruleId: "ssh-private-key", confidence: "high" } : null;
  }
  return { ruleId: "private-key", confidence: "high" };
}

export const PLATFORM_RULES: readonly SecretRule[] = [
  { id: "github-token", description: "GitHub token (checksum verified)", confidence: "high",
    pattern: rx(`${B}gh[pousr]_[0-9A-Za-z]{36}${E}`), keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    variants: { "github-token-unverified": "GitHub token shape with a failed checksum" },
    // A failed checksum may be a look-alike, or a token format GitHub has not documented: keep it, but low.
    classify: (s) => {
      if (isValidGithubTokenChecksum(s)) return { ruleId: "github-token", confidence: "high" };
      return shannonEntropy(s.slice(4)) >= 3 ? { ruleId: "github-token-unverified", confidence: "low" } : null;
    } },
  prefixRule("github-fine-grained-pat", "GitHub fine-grained personal access token", "github_pat_", "[0-9A-Za-z_]{82}"),
  { id: "stripe-secret-key", description: "Stripe secret key", confidence: "high",
    pattern: rx(`${B}sk_(?:live|test)_[0-9A-Za-z]{24,99}${E}`), keywords: ["sk_live_", "sk_test_"] },
  { id: "stripe-restricted-key", description: "Stripe restricted key", confidence: "high",
    pattern: rx(`${B}rk_(?:live|test)_[0-9A-Za-z]{24,99}${E}`), keywords: ["rk_live_", "rk_test_"] },
  { id: "slack-token", description: "Slack token", confidence: "high",
    pattern: rx(`${B}xox[baprs]-[0-9]{1,13}-[0-9A-Za-z-]{20,200}${E}`), keywords: ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"] },
  { id: "slack-webhook-url", description: "Slack incoming-webhook URL", confidence: "high", keywords: ["hooks.slack.com/"],
    pattern: rx("https?://hooks\\.slack\\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,14}/[A-Za-z0-9]{20,40}(?![A-Za-z0-9])") },
  { id: "discord-webhook-url", description: "Discord webhook URL", confidence: "high", keywords: ["discord.com/api/", "discordapp.com/api/"],
    pattern: rx("https://(?:(?:ptb|canary)\\.)?discord(?:app)?\\.com/api/(?:v\\d+/)?webhooks/\\d{17,20}/[A-Za-z0-9_-]{60,80}(?![A-Za-z0-9_-])") },
  { id: "private-key", description: "Private key block (PEM: PKCS#8, RSA, EC, DSA, encrypted)", confidence: "high", multiline: true,
    pattern: rx("-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----[\\s\\S]{0,32000}?-----END \\1PRIVATE KEY\\2-----"),
    keywords: ["PRIVATE KEY-----", "PRIVATE KEY BLOCK-----"],
    variants: {
      "ssh-private-key": "OpenSSH private key (format verified)",
      "pgp-private-key": "PGP private key block (armor checksum verified when present)",
      "pgp-private-key-unverified": "PGP private key block with a failed armor checksum",
    },
    classify: classifyPrivateKey },
  { id: "putty-private-key", description: "PuTTY private key file", confidence: "high", multiline: true, keywords: ["PuTTY-User-Key-File-"],
    pattern: rx("PuTTY-User-Key-File-[23]: [^\\n]+\\n[\\s\\S]{0,8000}?Private-Lines: \\d+\\r?\\n(?<secret>[A-Za-z0-9+/=]+(?:\\r?\\n[A-Za-z0-9+/=]+(?=\\r?\\n|$)){0,200})") },
  { id: "database-url-password", description: "Database or broker URL with a password", confidence: "medium",
    keywords: ["postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver", "clickhouse"],
    pattern: rx("(?<![A-Za-z0-9+])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)" +
      "://(?<name>[^:@/\\s'\"`]*):(?<secret>[^@/\\s'\"`]{1,200})@[A-Za-z0-9_.\\[\\]-]+", "gd") },
];
