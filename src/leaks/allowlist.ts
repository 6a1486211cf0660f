import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import type { Finding } from "./types.js";

export const ALLOW_FILE = ".latchkeyignore";
const FINGERPRINT = /^[a-z0-9-]+:[0-9a-f]{16}$/;

/**
 * `.latchkeyignore`: one entry a line, `#` comments. A finding fingerprint
 * (`<rule>:<16 hex>`, printed with each finding) allows that secret anywhere; any other line is a
 * gitignore-style path or glob, relative to the file's folder.
 */
export interface AllowList {
  /** The folder paths are relative to. */
  base: string;
  paths: Ignore;
  fingerprints: Set<string>;
}

export function parseAllowList(text: string, base: string): AllowList {
  const paths = ignore();
  const fingerprints = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (FINGERPRINT.test(line)) fingerprints.add(line);
    else paths.add(line);
  }
  return { base: resolve(base), paths, fingerprints };
}

export function emptyAllowList(base: string): AllowList {
  return parseAllowList("", base);
}

/** The nearest `.latchkeyignore` from `startDir` up to the repository root (a folder with `.git`). */
export function loadAllowList(startDir: string): AllowList {
  let dir = resolve(startDir);
  for (;;) {
    const file = join(dir, ALLOW_FILE);
    if (existsSync(file)) return parseAllowList(readFileSync(file, "utf8"), dir);
    const parent = dirname(dir);
    if (existsSync(join(dir, ".git")) || parent === dir) return emptyAllowList(resolve(startDir));
    dir = parent;
  }
}

/** Whether `path` (absolute, or relative to the allow-list's base) is allow-listed. */
export function isPathAllowed(allow: AllowList, path: string): boolean {
  const rel = relative(allow.base, resolve(allow.base, path)).split(sep).join("/");
  if (!rel || rel.startsWith("..")) return false;
  return allow.paths.ignores(rel);
}

export function isFindingAllowed(allow: AllowList, finding: Finding): boolean {
  if (allow.fingerprints.has(finding.fingerprint)) return true;
  return finding.path !== undefined && isPathAllowed(allow, finding.path);
}
