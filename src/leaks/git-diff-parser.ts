import { detectSecrets } from "./detect.js";
import { isFindingAllowed, isPathAllowed, type AllowList } from "./allowlist.js";
import type { SecretRule } from "./patterns.js";
import type { CommitInfo, Finding } from "./types.js";

/** Marks the header line of each commit in `git log --format` output. */
export const COMMIT_MARKER = "\u0000LKC\u0000";
export const COMMIT_FORMAT = "%x00LKC%x00%H%x00%an%x00%ae%x00%aI";
const MAX_HUNK_CHARS = 1024 * 1024;

/**
 * Incremental parser of `git log -p --unified=0` / `git diff -p --unified=0` output. Added lines
 * of one hunk are contiguous in the new file, so each hunk is scanned as one text: a PEM block or
 * a key concatenated over two lines is still found.
 */
export class AddedLinesScanner {
  readonly findings: Finding[] = [];
  commits = 0;
  private commit: CommitInfo | undefined;
  private path: string | null = null;
  private skipPath = false;
  private inHunk = false;
  private hunkStart = 0;
  private hunk: string[] = [];
  private hunkChars = 0;

  constructor(
    private readonly rules: readonly SecretRule[],
    private readonly allow: AllowList,
    private readonly onCommit?: (count: number) => void,
  ) {}

  line(line: string): void {
    if (this.inHunk) {
      const c = line.charCodeAt(0);
      if (c === 43 /* + */) {
        this.hunk.push(line.slice(1));
        this.hunkChars += line.length;
        return;
      }
      if (c === 45 /* - */ || c === 92 /* \ */) return;
    }
    this.flushHunk();
    if (line.startsWith("@@ ")) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(line);
      this.inHunk = m !== null && this.path !== null && !this.skipPath;
      this.hunkStart = m ? Number(m[1]) : 0;
    } else if (line.startsWith("diff --git ")) {
      this.path = null;
      this.inHunk = false;
    } else if (line.startsWith("+++ ")) {
      this.path = parseDiffPath(line.slice(4));
      this.skipPath = this.path !== null && isPathAllowed(this.allow, this.path);
    } else if (line.startsWith(COMMIT_MARKER)) {
      const [sha = "", author = "", email = "", date = ""] = line.slice(COMMIT_MARKER.length).split("\u0000");
      this.commit = { sha, author, email, date };
      this.path = null;
      this.inHunk = false;
      this.commits++;
      this.onCommit?.(this.commits);
    }
  }

  end(): void {
    this.flushHunk();
    this.inHunk = false;
  }

  private flushHunk(): void {
    if (this.hunk.length === 0) return;
    const text = this.hunk.join("\n");
    const tooLarge = this.hunkChars > MAX_HUNK_CHARS;
    this.hunk = [];
    this.hunkChars = 0;
    if (tooLarge) return;
    for (const f of detectSecrets(text, this.rules)) {
      f.line += this.hunkStart - 1;
      f.endLine += this.hunkStart - 1;
      f.path = this.path ?? "";
      if (this.commit) f.commit = this.commit;
      if (!isFindingAllowed(this.allow, f)) this.findings.push(f);
    }
  }
}

/** `b/src/x.ts`, `"b/with \"quotes\""` or `/dev/null` (a deleted file) from a `+++` line. */
export function parseDiffPath(raw: string): string | null {
  let p = raw.replace(/\t$/, "");
  if (p === "/dev/null") return null;
  if (p.startsWith('"') && p.endsWith('"')) {
    p = p.slice(1, -1).replace(/\\(["\\tn])/g, (_, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c));
  }
  return p.startsWith("b/") ? p.slice(2) : p;
}
