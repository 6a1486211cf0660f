import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { ValidationError } from "../errors/index.js";
import { sha256Hex } from "../lib/index.js";

/** One entry of GitHub's `GET /meta/public_keys/secret_scanning` answer. */
export interface GithubPublicKey {
  key_identifier: string;
  key: string;
  is_current?: boolean;
}

export interface PartnerMatch {
  token: string;
  type: string;
  url: string;
  source: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_DER_SIGNATURE_BYTES = 80; // an ECDSA P-256 DER signature is at most 72 bytes

function p256Key(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? key : null;
  } catch {
    return null;
  }
}

/**
 * Checks the `Github-Public-Key-Signature` of a partner report: ECDSA P-256 / SHA-256, DER
 * signature in base64, over the raw body bytes, with the key named by
 * `Github-Public-Key-Identifier`. False (never a throw) on any missing or malformed input.
 */
export function verifyGithubSignature(
  rawBody: Buffer,
  keyIdentifier: string | undefined,
  signatureB64: string | undefined,
  publicKeys: readonly GithubPublicKey[],
): boolean {
  if (!Buffer.isBuffer(rawBody) || !keyIdentifier || !signatureB64) return false;
  const compact = signatureB64.trim();
  if (!BASE64.test(compact) || compact.length % 4 !== 0) return false;
  const signature = Buffer.from(compact, "base64");
  if (signature.length < 8 || signature.length > MAX_DER_SIGNATURE_BYTES) return false;
  const entry = publicKeys.find((k) => k.key_identifier === keyIdentifier);
  const key = entry ? p256Key(entry.key) : null;
  if (!key) return false;
  try {
    // The verification itself does not branch on secret data; the signature and key are public.
    return verify("sha256", rawBody, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

const SOURCES = new Set([
  "content", "commit", "pull_request_title", "pull_request_description", "pull_request_comment",
  "issue_title", "issue_description", "issue_comment", "discussion_title", "discussion_body",
  "discussion_comment", "commit_comment", "gist_content", "gist_comment", "npm", "unknown",
]);
export const MAX_REPORT_MATCHES = 10_000;

/**
 * The matches of a partner report body (a JSON array of `{token, type, url, source}`). Throws a
 * ValidationError naming the bad entries; an unknown `source` reads as "unknown" (GitHub adds
 * sources over time, and the docs capitalise what the samples do not).
 */
export function parsePartnerReport(rawBody: Buffer | string): PartnerMatch[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === "string" ? rawBody : rawBody.toString("utf8"));
  } catch {
    throw new ValidationError([{ field: "body", message: "is not valid JSON" }]);
  }
  if (!Array.isArray(parsed)) throw new ValidationError([{ field: "body", message: "must be a JSON array" }]);
  if (parsed.length > MAX_REPORT_MATCHES) {
    throw new ValidationError([{ field: "body", message: `has more than ${MAX_REPORT_MATCHES} matches` }]);
  }
  const issues: { field: string; message: string }[] = [];
  const matches: PartnerMatch[] = [];
  parsed.forEach((item: unknown, i) => {
    const entry = item as Record<string, unknown> | null;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      issues.push({ field: `[${i}]`, message: "must be an object" });
      return;
    }
    const { token, type, url, source } = entry;
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
      issues.push({ field: `[${i}].token`, message: "must be a non-empty string" });
    }
    if (typeof type !== "string" || type.length === 0) issues.push({ field: `[${i}].type`, message: "must be a non-empty string" });
    if (url !== undefined && url !== null && typeof url !== "string") issues.push({ field: `[${i}].url`, message: "must be a string" });
    if (source !== undefined && source !== null && typeof source !== "string") {
      issues.push({ field: `[${i}].source`, message: "must be a string" });
    }
    if (typeof token === "string" && typeof type === "string" && token && type) {
      const s = typeof source === "string" ? source.toLowerCase() : "unknown";
      matches.push({ token, type, url: typeof url === "string" ? url : "", source: SOURCES.has(s) ? s : "unknown" });
    }
  });
  if (issues.length) throw new ValidationError(issues);
  return matches;
}

export type FeedbackLabel = "true_positive" | "false_positive";

export interface ReportOutcome {
  token: string;
  type: string;
  /** True when the token was a key of this deployment (revoked now, or already). */
  isOurKey: boolean;
}

export type FeedbackEntry =
  | { token_hash: string; token_type: string; label: FeedbackLabel }
  | { token_raw: string; token_type: string; label: FeedbackLabel };

/**
 * The optional feedback array GitHub accepts in the answer. Tokens are sent hashed (SHA-256)
 * unless `raw` is asked for: GitHub accepts both, and a hash says enough.
 */
export function feedbackFor(outcomes: readonly ReportOutcome[], options: { raw?: boolean } = {}): FeedbackEntry[] {
  return outcomes.map((o) => {
    const label: FeedbackLabel = o.isOurKey ? "true_positive" : "false_positive";
    return options.raw
      ? { token_raw: o.token, token_type: o.type, label }
      : { token_hash: sha256Hex(o.token), token_type: o.type, label };
  });
}
