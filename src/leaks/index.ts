export { buildRules, describeRule, ruleCatalog, RULE_IDS, type Confidence, type RuleInfo, type RuleOptions, type SecretRule } from "./patterns.js";
export { EXCLUSIONS, type ExclusionRule } from "./exclusions.js";
export { DEFAULT_LATCHKEY_PREFIXES, isValidGithubTokenChecksum, isValidLatchkeyKey, pgpArmorChecksum } from "./checksums.js";
export { maskSecret } from "./mask.js";
export { shannonEntropy } from "./entropy.js";
export { detectSecrets, fingerprintOf } from "./detect.js";
export { ALLOW_FILE, emptyAllowList, loadAllowList, parseAllowList, type AllowList } from "./allowlist.js";
export { DEFAULT_MAX_FILE_BYTES, scanPaths, scanStream, scanText, type ScanOptions } from "./scanner.js";
export { countCommits, GitError, repositoryRoot, scanGitHistory, scanStaged, type GitScanOptions } from "./git.js";
export { formatHuman, formatJson, type KeyStatusNote } from "./format-human.js";
export { formatSarif } from "./format-sarif.js";
export { createRedactor, redactSecrets, redactUrl, REDACT_HEADER_PATHS } from "./redact.js";
export {
  feedbackFor, parsePartnerReport, verifyGithubSignature,
  type FeedbackEntry, type GithubPublicKey, type PartnerMatch, type ReportOutcome,
} from "./github-report.js";
export type { CommitInfo, Finding, ScanResult } from "./types.js";
export {
  describeLookedUpKey, latchkeyKeyHashes, LOOKUP_BATCH, needsRevocation, type LookedUpKey, type LookupAnswer,
} from "./key-check.js";
export { rotationAdvice, type LeakedCredential } from "./rotation.js";
