import type { Confidence } from "./patterns.js";

/** Where a secret was found in git history. */
export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  date: string;
}

/** One secret found. `line` and `column` are 1-based; `secret` never leaves the process in output. */
export interface Finding {
  ruleId: string;
  description: string;
  confidence: Confidence;
  secret: string;
  masked: string;
  line: number;
  column: number;
  endLine: number;
  /** `<rule>:<first 16 hex of sha256(secret)>`: stable wherever the secret appears. */
  fingerprint: string;
  path?: string;
  commit?: CommitInfo;
}

export interface ScanError {
  path: string;
  message: string;
}

export interface ScanResult {
  findings: Finding[];
  /** Files scanned (or commits, for history scans). */
  scanned: number;
  skipped: { path: string; reason: "binary" | "too-large" | "allow-listed" | "unreadable" }[];
  errors: ScanError[];
}
