import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { emptyAllowList, isFindingAllowed, isPathAllowed, type AllowList } from "./allowlist.js";
import { detectSecrets } from "./detect.js";
import { buildRules, type SecretRule } from "./patterns.js";
import type { Finding, ScanResult } from "./types.js";

export interface ScanOptions {
  rules?: readonly SecretRule[];
  latchkeyPrefixes?: readonly string[];
  /** Files larger than this are skipped (default 1 MiB). */
  maxFileBytes?: number;
  allowList?: AllowList;
  /** Reports each file done, for progress output. */
  onFile?(path: string): void;
}

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
const ALWAYS_SKIPPED = new Set([".git", "node_modules"]);
const BINARY_SNIFF_BYTES = 8000;

function rulesOf(options: ScanOptions): readonly SecretRule[] {
  return options.rules ?? buildRules({ latchkeyPrefixes: options.latchkeyPrefixes });
}

/** Secrets in one text; `path` is attached to each finding. */
export function scanText(text: string, path: string | undefined, options: ScanOptions = {}): Finding[] {
  const findings = detectSecrets(text, rulesOf(options));
  const allow = options.allowList;
  const out: Finding[] = [];
  for (const f of findings) {
    if (path !== undefined) f.path = path;
    if (!allow || !isFindingAllowed(allow, f)) out.push(f);
  }
  return out;
}

function emptyResult(): ScanResult {
  return { findings: [], scanned: 0, skipped: [], errors: [] };
}

export function isBinary(buffer: Buffer): boolean {
  return buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/** Files and folders (recursively, honouring `.gitignore` files, skipping `.git` and `node_modules`). */
export async function scanPaths(paths: readonly string[], options: ScanOptions = {}): Promise<ScanResult> {
  const result = emptyResult();
  const allow = options.allowList ?? emptyAllowList(process.cwd());
  const files: string[] = [];
  for (const p of paths) {
    try {
      const info = await stat(p);
      if (info.isDirectory()) await walk(resolve(p), [], files, allow);
      else files.push(resolve(p));
    } catch (err) {
      result.errors.push({ path: p, message: (err as Error).message });
    }
  }
  await runPool(files, 8, (file) => scanFile(file, { ...options, allowList: allow }, result));
  result.findings.sort((a, b) => (a.path ?? "").localeCompare(b.path ?? "") || a.line - b.line);
  return result;
}

interface IgnoreScope {
  base: string;
  rules: Ignore;
}

async function walk(dir: string, scopes: IgnoreScope[], files: string[], allow: AllowList): Promise<void> {
  const own = await readFile(join(dir, ".gitignore"), "utf8").catch(() => null);
  const here = own === null ? scopes : [...scopes, { base: dir, rules: ignore().add(own) }];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (ALWAYS_SKIPPED.has(entry.name)) continue;
    const full = join(dir, entry.name);
    const isDir = entry.isDirectory();
    if (!isDir && !entry.isFile()) continue;
    if (isIgnored(here, full, isDir)) continue;
    if (isDir) await walk(full, here, files, allow);
    else files.push(full);
  }
}

function isIgnored(scopes: readonly IgnoreScope[], full: string, isDir: boolean): boolean {
  return scopes.some(({ base, rules }) => {
    const rel = relative(base, full).split(sep).join("/");
    return rules.ignores(isDir ? `${rel}/` : rel);
  });
}

async function scanFile(file: string, options: ScanOptions, result: ScanResult): Promise<void> {
  const display = displayPath(file);
  const allow = options.allowList;
  try {
    if (allow && isPathAllowed(allow, file)) {
      result.skipped.push({ path: display, reason: "allow-listed" });
      return;
    }
    const info = await stat(file);
    if (info.size > (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)) {
      result.skipped.push({ path: display, reason: "too-large" });
      return;
    }
    const buffer = await readFile(file);
    if (isBinary(buffer)) {
      result.skipped.push({ path: display, reason: "binary" });
      return;
    }
    result.scanned++;
    result.findings.push(...scanText(buffer.toString("utf8"), display, options));
  } catch (err) {
    result.errors.push({ path: display, message: (err as Error).message });
  } finally {
    options.onFile?.(display);
  }
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return (rel && !rel.startsWith("..") ? rel : file).split(sep).join("/");
}

/** Standard input (or any stream) as one text. */
export async function scanStream(stream: NodeJS.ReadableStream, options: ScanOptions = {}): Promise<ScanResult> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  const result = emptyResult();
  result.scanned = 1;
  result.findings = scanText(Buffer.concat(chunks).toString("utf8"), "<stdin>", options);
  return result;
}

async function runPool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
