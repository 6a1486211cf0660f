/**
 * How fast `latchkey scan --git` reads a long history: builds a 10,000-commit repository with
 * `git fast-import`, plants keys in a few commits, then times the history scan in-process and
 * through the CLI, and the detection alone over the captured log (best of three), which is the
 * scanner's own cost apart from git's. Run: `npx tsc -p tsconfig.json && node dist/bench/leaks-scan.js [commits]`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import Table from "cli-table3";
import { encodeBase62, randomChars } from "../src/lib/index.js";
import { buildRules, emptyAllowList, redactSecrets, scanGitHistory } from "../src/leaks/index.js";
import { AddedLinesScanner, COMMIT_FORMAT } from "../src/leaks/git-diff-parser.js";

const COMMITS = Number(process.argv[2] ?? 10_000);
const FILES = 400;
const PLANTED_EVERY = 500;
const ROOT = resolve(import.meta.dirname, "../..");

function fakeLatchkeyKey(): string {
  const head = `lk_live_${randomChars(30)}`;
  return head + encodeBase62(crc32(head) >>> 0, 6);
}

function fileContent(commit: number, path: number, planted: string | null): string {
  const lines = [`// module ${path}`, `export const revision = ${commit};`];
  for (let i = 0; i < 8; i++) lines.push(`export function step${i}(x: number): number { return x * ${commit + i} + ${path}; }`);
  if (planted) lines.push(`const apiKey = "${planted}";`);
  return lines.join("\n") + "\n";
}

/** The cost of masking secrets in one log line, most lines holding none. */
function redactionMicros(): number {
  const line = '{"level":30,"time":1700000000000,"req_id":"req_123","msg":"request completed","ms":12.5}';
  const withKey = `{"msg":"bad key ${fakeLatchkeyKey()}"}`;
  const n = 200_000;
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) redactSecrets(i % 10 === 0 ? withKey : line);
    best = Math.min(best, ((performance.now() - t0) * 1000) / n);
  }
  return best;
}

/** The fast-import stream: each commit rewrites one of FILES files (about ten changed lines). */
function fastImportStream(): { stream: string; planted: number } {
  const parts: string[] = [];
  let planted = 0;
  const t0 = 1_700_000_000;
  for (let c = 1; c <= COMMITS; c++) {
    const key = c % PLANTED_EVERY === 0 ? fakeLatchkeyKey() : null;
    if (key) planted++;
    const message = `change ${c}\n`;
    const content = fileContent(c, c % FILES, key);
    parts.push(
      "commit refs/heads/main\n",
      `mark :${c}\n`,
      `author Dev ${c % 7} <dev${c % 7}@example.test> ${t0 + c * 60} +0000\n`,
      `committer Dev ${c % 7} <dev${c % 7}@example.test> ${t0 + c * 60} +0000\n`,
      `data ${Buffer.byteLength(message)}\n${message}`,
      c > 1 ? `from :${c - 1}\n` : "",
      `M 100644 inline src/module-${c % FILES}.ts\n`,
      `data ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  return { stream: parts.join(""), planted };
}

function cliEntry(): string {
  const index = join(ROOT, "dist/src/cli/index.js");
  if (existsSync(index) && readFileSync(index, "utf8").includes("registerScanCommand")) return join(ROOT, "bin/latchkey.js");
  return join(ROOT, "test/fixtures/leaks/cli-runner.mjs");
}

async function main(): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
  try {
    const rows: [string, string][] = [];
    let t = performance.now();
    spawnSync("git", ["init", "-q", "-b", "main", repo]);
    const { stream, planted } = fastImportStream();
    const imported = spawnSync("git", ["fast-import", "--quiet"], { cwd: repo, input: stream, maxBuffer: 1 << 30 });
    if (imported.status !== 0) throw new Error(`git fast-import failed: ${imported.stderr}`);
    spawnSync("git", ["reset", "-q", "--hard", "main"], { cwd: repo });
    rows.push(["build repository (fast-import)", `${((performance.now() - t) / 1000).toFixed(2)} s`]);

    t = performance.now();
    const raw = spawnSync("git", ["log", "-p", "--no-color", "--unified=0", "HEAD"], { cwd: repo, maxBuffer: 1 << 30 });
    rows.push(["git log -p alone", `${((performance.now() - t) / 1000).toFixed(2)} s (${(raw.stdout.length / 1e6).toFixed(1)} MB)`]);

    const log = spawnSync("git", ["log", "-p", "--no-color", "--unified=0", "--no-ext-diff", "--no-textconv", "--no-renames", `--format=${COMMIT_FORMAT}`, "HEAD"],
      { cwd: repo, maxBuffer: 1 << 30, encoding: "utf8" }).stdout.split("\n");
    let best = Infinity;
    let detected = 0;
    for (let i = 0; i < 3; i++) {
      const parser = new AddedLinesScanner(buildRules(), emptyAllowList(repo));
      t = performance.now();
      for (const line of log) parser.line(line);
      parser.end();
      best = Math.min(best, (performance.now() - t) / 1000);
      detected = parser.findings.length;
    }
    rows.push(["detection alone (captured log, best of 3)", `${best.toFixed(3)} s, ${Math.round(COMMITS / best)} commits/s, ${detected} found`]);

    t = performance.now();
    const result = await scanGitHistory({ cwd: repo });
    const inProcess = (performance.now() - t) / 1000;
    rows.push(["scanGitHistory (in process)", `${inProcess.toFixed(2)} s, ${Math.round(result.scanned / inProcess)} commits/s`]);

    t = performance.now();
    const cli = spawnSync(process.execPath, [cliEntry(), "scan", "--git", "--format", "json"], { cwd: repo, maxBuffer: 1 << 28 });
    const cliSeconds = (performance.now() - t) / 1000;
    const cliFindings = (JSON.parse(cli.stdout.toString()) as { findings: unknown[] }).findings.length;
    rows.push(["latchkey scan --git (CLI, exit " + cli.status + ")", `${cliSeconds.toFixed(2)} s`]);
    rows.push(["commits scanned", String(result.scanned)]);
    rows.push(["log redaction (10% of lines with a key)", `${redactionMicros().toFixed(2)} µs a line`]);
    rows.push(["keys planted / found (in process / CLI)", `${planted} / ${result.findings.length} / ${cliFindings}`]);

    const table = new Table({ head: ["leak scan benchmark", `${COMMITS} commits`] });
    table.push(...rows);
    console.log(table.toString());
    if (result.findings.length !== planted || cliFindings !== planted || detected !== planted) process.exitCode = 1;
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

await main();
