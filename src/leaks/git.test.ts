import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fake, privateKeyPems } from "../../test/fixtures/leaks/fake-keys.js";
import { parseDiffPath } from "./git-diff-parser.js";
import { scanGitHistory, scanStaged } from "./git.js";

const repo = mkdtempSync(join(tmpdir(), "latchkey-git-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
const commit = (message: string, author = "Ada Example <ada@example.test>"): string => {
  git("add", "-A");
  git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "--no-verify", "-m", message, `--author=${author}`);
  return git("rev-parse", "HEAD");
};

describe("git history and staged scans", () => {
  git("init", "-q", "-b", "main");
  const key = fake.anthropic();
  const pem = privateKeyPems().pkcs8;

  it("finds a key added then removed, with commit, author, path and line", async () => {
    writeFileSync(join(repo, "README.md"), "# demo\n");
    const base = commit("initial");
    writeFileSync(join(repo, "config.py"), `import os\n\nKEY = (\n    "${key.slice(0, 50)}"\n    "${key.slice(50)}"\n)\n`);
    writeFileSync(join(repo, "my file.pem"), pem);
    const leaking = commit("add config");
    unlinkSync(join(repo, "config.py"));
    unlinkSync(join(repo, "my file.pem"));
    commit("remove config", "Bob Example <bob@example.test>");

    const result = await scanGitHistory({ cwd: repo });
    expect(result.scanned).toBe(3);
    const byRule = Object.fromEntries(result.findings.map((f) => [f.ruleId, f]));
    expect(byRule["anthropic-api-key"]).toMatchObject({
      secret: key, path: "config.py", line: 4, commit: { sha: leaking, author: "Ada Example", email: "ada@example.test" },
    });
    expect(byRule["private-key"]).toMatchObject({ path: "my file.pem", line: 1 });
    expect(result.findings).toHaveLength(2);

    const since = await scanGitHistory({ cwd: repo, since: leaking });
    expect(since.findings).toHaveLength(0);
    expect((await scanGitHistory({ cwd: repo, since: base })).findings).toHaveLength(2);
  });

  it("scans only the staged additions", async () => {
    const github = fake.github();
    writeFileSync(join(repo, "README.md"), `# demo\ntoken: ${github}\n`);
    writeFileSync(join(repo, "unstaged.txt"), `${fake.google()}\n`);
    git("add", "README.md");
    const result = await scanStaged({ cwd: repo });
    expect(result.findings).toMatchObject([{ ruleId: "github-token", path: "README.md", line: 2, secret: github }]);
    expect(result.findings[0]!.commit).toBeUndefined();
  });

  it("fails on a folder that is not a repository", async () => {
    const plain = mkdtempSync(join(tmpdir(), "latchkey-plain-"));
    await expect(scanGitHistory({ cwd: plain })).rejects.toThrow(/not a git repository/i);
    rmSync(plain, { recursive: true });
  });
});

describe("parseDiffPath", () => {
  it("reads plain, quoted and deleted paths", () => {
    expect(parseDiffPath("b/src/a.ts")).toBe("src/a.ts");
    expect(parseDiffPath('"b/with \\"quote\\".txt"')).toBe('with "quote".txt');
    expect(parseDiffPath("/dev/null")).toBeNull();
  });
});
