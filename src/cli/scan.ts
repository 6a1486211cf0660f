import type { Command } from "commander";
import cliProgress from "cli-progress";
import {
  countCommits, describeLookedUpKey, formatHuman, formatJson, formatSarif, latchkeyKeyHashes, loadAllowList,
  LOOKUP_BATCH, needsRevocation, repositoryRoot, scanGitHistory, scanPaths, scanStaged, scanStream,
  type KeyStatusNote, type LookupAnswer, type ScanResult,
} from "../leaks/index.js";
import { CliError, EXIT, type CliContext } from "./context.js";
import { checkCredentials } from "./scan-credentials.js";

interface ScanOptions {
  git?: boolean;
  since?: string;
  staged?: boolean;
  stdin?: boolean;
  format: string;
  check?: boolean;
  revoke?: boolean;
  maxFileSize?: number;
}

const FORMATS = ["human", "json", "sarif"];
const PROGRESS_MIN_COMMITS = 300;

export function registerScanCommand(program: Command, ctx: CliContext): void {
  program
    .command("scan")
    .description("find API keys, tokens and private keys in files, git history or staged changes (exit 1 when found)")
    .argument("[paths...]", "files or folders to scan (default: the current folder)")
    .option("--git", "scan the lines every commit added, in the history of HEAD")
    .option("--since <rev>", "with --git: only the commits after this revision")
    .option("--staged", "scan the staged changes (what the next commit would add)")
    .option("--stdin", "scan standard input")
    .option("--format <format>", "human, json or sarif", "human")
    .option("--max-file-size <bytes>", "skip larger files (default 1048576)", (v) => Number(v))
    .option("--check", "ask the server whether the Latchkey keys and provider credentials found are its own (sends only SHA-256 digests); a held provider credential raises credential.leaked")
    .option("--revoke", "with --check: revoke each key of this server that was found")
    .action(async (paths: string[], opts: ScanOptions) => {
      if (!FORMATS.includes(opts.format)) throw new CliError(`--format: '${opts.format}' is not one of ${FORMATS.join(", ")}`);
      const modes = [opts.git || opts.since !== undefined, opts.staged, opts.stdin, paths.length > 0].filter(Boolean);
      if (modes.length > 1) throw new CliError("choose one of: paths, --git, --staged, --stdin");
      const result = await runScan(ctx, paths, opts).catch((err: unknown) => {
        throw err instanceof CliError ? err : new CliError((err as Error).message, EXIT.usage);
      });
      const notes = opts.check || opts.revoke
        ? { ...(await checkKeys(ctx, result, Boolean(opts.revoke))), ...(await checkCredentials(ctx, result, describeScan(paths, opts))) }
        : {};
      const render = opts.format === "json" ? formatJson(result, notes) : opts.format === "sarif" ? formatSarif(result) : formatHuman(result, notes);
      ctx.out.write(render);
      if (result.findings.length > 0) {
        throw new CliError(`${result.findings.length} secret${result.findings.length === 1 ? "" : "s"} found`, EXIT.negative);
      }
      if (result.errors.length > 0) throw new CliError(`${result.errors.length} path(s) could not be scanned`, EXIT.usage);
    });
}

/** Where the scan looked, for the alert a held credential raises (no secret in it). */
function describeScan(paths: string[], opts: ScanOptions): string {
  if (opts.stdin) return "latchkey scan --stdin";
  if (opts.staged) return `latchkey scan --staged in ${process.cwd()}`;
  if (opts.git || opts.since !== undefined) return `latchkey scan --git in ${process.cwd()}`;
  return `latchkey scan ${paths.length ? paths.join(" ") : "."} in ${process.cwd()}`;
}

async function runScan(ctx: CliContext, paths: string[], opts: ScanOptions): Promise<ScanResult> {
  if (opts.stdin) return scanStream(process.stdin, { allowList: loadAllowList(process.cwd()) });
  if (opts.staged) return scanStaged();
  if (opts.git || opts.since !== undefined) return withProgress(ctx, opts.since);
  return scanPaths(paths.length ? paths : ["."], { allowList: loadAllowList(process.cwd()), maxFileBytes: opts.maxFileSize });
}

/** A history scan, with a progress bar on stderr when it is a terminal and the history is long. */
async function withProgress(ctx: CliContext, since: string | undefined): Promise<ScanResult> {
  const root = await repositoryRoot();
  const tty = (ctx.err as NodeJS.WriteStream).isTTY === true;
  const total = tty ? await countCommits({ cwd: root, since }).catch(() => 0) : 0;
  if (total < PROGRESS_MIN_COMMITS) return scanGitHistory({ cwd: root, since });
  const bar = new cliProgress.SingleBar(
    { stream: ctx.err, format: "scanning history [{bar}] {value}/{total} commits", hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  try {
    return await scanGitHistory({ cwd: root, since, onCommit: (n) => { if (n % 50 === 0 || n === total) bar.update(n); } });
  } finally {
    bar.stop();
  }
}

/** Asks the server about each Latchkey key found, by SHA-256, and revokes the live ones if asked. */
async function checkKeys(ctx: CliContext, result: ScanResult, revoke: boolean): Promise<KeyStatusNote> {
  const bySha = latchkeyKeyHashes(result.findings);
  const notes: KeyStatusNote = {};
  const shas = [...bySha.keys()];
  try {
    for (let i = 0; i < shas.length; i += LOOKUP_BATCH) {
      const answer = (await ctx.api("POST", "/api/v1/keys/lookup", { sha256: shas.slice(i, i + LOOKUP_BATCH) })) as LookupAnswer;
      for (const entry of answer.data) {
        let revoked = false;
        if (revoke && needsRevocation(entry.key)) {
          await ctx.api("POST", `/api/v1/keys/${encodeURIComponent(entry.key.id)}/revoke`, { reason: "leaked: found by latchkey scan" });
          revoked = true;
        }
        for (const f of bySha.get(entry.sha256) ?? []) notes[f.fingerprint] = describeLookedUpKey(entry.key, revoked);
      }
    }
  } catch (err) {
    throw new CliError(`--check: ${(err as Error).message}`, EXIT.usage);
  }
  return notes;
}
