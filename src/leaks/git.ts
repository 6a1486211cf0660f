import { spawn, execFile } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { loadAllowList, type AllowList } from "./allowlist.js";
import { AddedLinesScanner, COMMIT_FORMAT } from "./git-diff-parser.js";
import { buildRules, type SecretRule } from "./patterns.js";
import type { ScanResult } from "./types.js";

const execFileAsync = promisify(execFile);

export interface GitScanOptions {
  /** Any folder inside the repository (default: the current folder). */
  cwd?: string;
  /** Scan only commits after this revision (`REV..HEAD`). */
  since?: string;
  rules?: readonly SecretRule[];
  latchkeyPrefixes?: readonly string[];
  /** Default: `.latchkeyignore` at the repository root. */
  allowList?: AllowList;
  onCommit?(count: number): void;
}

// Plain, stable output whatever the user's git configuration says.
const GIT_FLAGS = ["-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "color.ui=never"];
const DIFF_FLAGS = ["-p", "--no-color", "--unified=0", "--no-ext-diff", "--no-textconv", "--no-renames"];

export class GitError extends Error {
  override name = "GitError";
}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("git", [...GIT_FLAGS, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new GitError(stderr || (err as Error).message);
  }
}

export async function repositoryRoot(cwd = process.cwd()): Promise<string> {
  return git(cwd, ["rev-parse", "--show-toplevel"]);
}

/** The number of commits a history scan will read (for a progress bar). */
export async function countCommits(options: GitScanOptions = {}): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  return Number(await git(cwd, ["rev-list", "--count", revisionRange(options)]));
}

function revisionRange(options: GitScanOptions): string {
  return options.since ? `${options.since}..HEAD` : "HEAD";
}

/** Every line added by every commit reachable from HEAD (or since `since`), in one streaming `git log`. */
export async function scanGitHistory(options: GitScanOptions = {}): Promise<ScanResult> {
  const cwd = options.cwd ?? process.cwd();
  const root = await repositoryRoot(cwd);
  const hasHead = await git(root, ["rev-parse", "--verify", "-q", "HEAD"]).then(() => true, () => false);
  if (!hasHead) return { findings: [], scanned: 0, skipped: [], errors: [] };
  const args = ["log", ...DIFF_FLAGS, `--format=${COMMIT_FORMAT}`, revisionRange(options), "--"];
  return runDiff(root, args, options);
}

/** Lines added in the index (what `git commit` would record now). */
export async function scanStaged(options: GitScanOptions = {}): Promise<ScanResult> {
  const cwd = options.cwd ?? process.cwd();
  const root = await repositoryRoot(cwd);
  const args = ["diff", "--cached", ...DIFF_FLAGS, "--diff-filter=ACMR", "--"];
  const result = await runDiff(root, args, options);
  result.scanned = Number(await git(root, ["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"]).then(
    (out) => out.split("\u0000").filter(Boolean).length,
  ));
  return result;
}

function runDiff(root: string, args: string[], options: GitScanOptions): Promise<ScanResult> {
  const rules = options.rules ?? buildRules({ latchkeyPrefixes: options.latchkeyPrefixes });
  const parser = new AddedLinesScanner(rules, options.allowList ?? loadAllowList(root), options.onCommit);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("git", [...GIT_FLAGS, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const decoder = new StringDecoder("utf8");
    let pending = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const text = pending + decoder.write(chunk);
      let from = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
        parser.line(text.slice(from, nl));
        from = nl + 1;
      }
      pending = text.slice(from);
    });
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on("error", (err) => reject(new GitError(`cannot run git: ${err.message}`)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new GitError(stderr.trim() || `git exited with ${code}`));
      const rest = pending + decoder.end();
      if (rest) parser.line(rest);
      parser.end();
      resolvePromise({ findings: parser.findings, scanned: parser.commits, skipped: [], errors: [] });
    });
  });
}
