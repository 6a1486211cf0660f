import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { CliError, EXIT, type CliContext } from "./context.js";

const MARKER = "# latchkey pre-commit hook";

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The hook script: runs this very CLI (absolute paths), falling back to `npx latchkey`. */
export function preCommitHookScript(nodePath: string, binPath: string): string {
  return `#!/bin/sh
${MARKER}: blocks a commit that adds a secret. Installed by \`latchkey hook install\`.
LATCHKEY_NODE=${shellQuote(nodePath)}
LATCHKEY_BIN=${shellQuote(binPath)}
if [ -x "$LATCHKEY_NODE" ] && [ -f "$LATCHKEY_BIN" ]; then
  "$LATCHKEY_NODE" "$LATCHKEY_BIN" scan --staged
else
  npx --no-install latchkey scan --staged
fi
status=$?
[ "$status" -eq 0 ] && exit 0
if [ "$status" -eq 1 ]; then
  cat >&2 <<'MSG'

latchkey: commit blocked: the staged changes add the secret(s) listed above.
  - Remove the secret from the file (and revoke or rotate it if it was ever real), then git add again.
  - A deliberate test fixture? Put latchkey:allow in a comment on its line, or list the file
    (or the finding's fingerprint) in .latchkeyignore at the repository root.
  - Last resort: git commit --no-verify skips this check.
MSG
  exit 1
fi
echo "latchkey: the secret scan could not run (exit $status), so the commit is blocked; git commit --no-verify skips it." >&2
exit "$status"
`;
}

function hooksDir(cwd: string): string {
  try {
    const dir = execFileSync("git", ["rev-parse", "--git-path", "hooks"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    return isAbsolute(dir) ? dir : resolve(cwd, dir);
  } catch {
    throw new CliError(`${cwd} is not inside a git repository`);
  }
}

/** The running CLI's entry script, absolute; what the hook will call. */
function runningBin(): string {
  const script = process.argv[1];
  if (!script) throw new CliError("cannot tell where the latchkey CLI is installed");
  return realpathSync(script);
}

export function registerHookCommand(program: Command, ctx: CliContext): void {
  const hook = program.command("hook").description("the git pre-commit hook that blocks commits adding secrets");
  hook
    .command("install")
    .description("write .git/hooks/pre-commit to run `latchkey scan --staged` before each commit")
    .option("--force", "replace an existing pre-commit hook that latchkey did not write")
    .action((opts: { force?: boolean }) => {
      const dir = hooksDir(process.cwd());
      const file = join(dir, "pre-commit");
      if (existsSync(file) && !readFileSync(file, "utf8").includes(MARKER) && !opts.force) {
        throw new CliError(
          `${file} already exists and was not written by latchkey; pass --force to replace it, ` +
            "or add `latchkey scan --staged || exit 1` to it yourself",
          EXIT.refused,
        );
      }
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, preCommitHookScript(process.execPath, runningBin()));
      chmodSync(file, 0o755);
      ctx.out.write(`${pc.green("installed")} ${file}\n`);
    });
  hook
    .command("uninstall")
    .description("remove the pre-commit hook if latchkey wrote it")
    .action(() => {
      const file = join(hooksDir(process.cwd()), "pre-commit");
      if (!existsSync(file)) return void ctx.out.write("no pre-commit hook installed\n");
      if (!readFileSync(file, "utf8").includes(MARKER)) throw new CliError(`${file} was not written by latchkey; left as is`, EXIT.refused);
      unlinkSync(file);
      ctx.out.write(`${pc.green("removed")} ${file}\n`);
    });
}
