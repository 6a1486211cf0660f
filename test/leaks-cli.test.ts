import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { maskSecret } from "../src/leaks/index.js";
import { fake } from "./fixtures/leaks/fake-keys.js";

const ROOT = resolve(import.meta.dirname, "..");
// The full CLI once it registers `scan`; until then a runner with only the scan and hook commands.
const usesBin = readFileSync(join(ROOT, "src/cli/index.ts"), "utf8").includes("registerScanCommand");
const ENTRY = usesBin ? join(ROOT, "bin/latchkey.js") : join(ROOT, "test/fixtures/leaks/cli-runner.mjs");
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, GIT_CONFIG_NOSYSTEM: "1" };

const work = mkdtempSync(join(tmpdir(), "latchkey-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(cwd: string, args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [ENTRY, ...args], { cwd, env: ENV, input, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function gitRepo(name: string): { dir: string; git: (...a: string[]) => { code: number; out: string } } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]): { code: number; out: string } => {
    const r = spawnSync("git", ["-c", "user.name=Ada Example", "-c", "user.email=ada@example.test", ...args], { cwd: dir, env: ENV, encoding: "utf8" });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  };
  git("init", "-q", "-b", "main");
  return { dir, git };
}

// Every test runs the CLI (a new Node process) several times: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

beforeAll(() => {
  // The CLI runs from dist/, built by npm test or the suite's global setup (test/support/build-dist.ts).
  if (!existsSync(join(ROOT, "dist/src/cli/scan.js"))) throw new Error("dist/src/cli/scan.js is missing: build with npx tsc -p tsconfig.json");
});

describe("latchkey scan: exit codes and formats", () => {
  const clean = join(work, "clean");
  const dirty = join(work, "dirty");
  const key = fake.latchkey();
  const anthropic = fake.anthropic();
  mkdirSync(clean, { recursive: true });
  mkdirSync(dirty, { recursive: true });
  writeFileSync(join(clean, "a.ts"), "export const a = 1;\n");
  writeFileSync(join(dirty, "settings.yaml"), `gateway:\n  key: ${key}\n  upstream: ${anthropic}\n`);

  it("exits 0 when clean, 1 when something is found, 2 on an error", () => {
    expect(cli(clean, ["scan"]).code).toBe(0);
    const found = cli(dirty, ["scan", "."]);
    expect(found.code).toBe(1);
    expect(found.out).toContain("settings.yaml:2:8");
    expect(found.out).toContain(maskSecret(key));
    expect(found.out).not.toContain(key);
    expect(cli(dirty, ["scan", "no-such-file"]).code).toBe(2);
    expect(cli(dirty, ["scan", "--format", "xml"]).code).toBe(2);
    expect(cli(dirty, ["scan", "--git"]).code).toBe(2); // not a repository
  });

  it("prints JSON without plaintext secrets", () => {
    const r = cli(dirty, ["scan", "--format", "json"]);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain(key);
    expect(r.out).not.toContain(anthropic);
    const report = JSON.parse(r.out) as { findings: { rule_id: string; path: string; line: number; masked: string; fingerprint: string }[] };
    expect(report.findings.map((f) => [f.rule_id, f.path, f.line])).toEqual([["latchkey-key", "settings.yaml", 2], ["anthropic-api-key", "settings.yaml", 3]]);
  });

  it("prints SARIF 2.1.0 with what code scanning requires", () => {
    const r = cli(dirty, ["scan", "--format", "sarif"]);
    const sarif = JSON.parse(r.out);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toMatch(/sarif/);
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe("latchkey");
    const ruleIds = run.tool.driver.rules.map((x: { id: string }) => x.id);
    expect(run.results).toHaveLength(2);
    for (const res of run.results) {
      expect(ruleIds[res.ruleIndex]).toBe(res.ruleId);
      expect(["error", "warning"]).toContain(res.level);
      expect(res.message.text.length).toBeGreaterThan(0);
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).toBe("settings.yaml");
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
      expect(res.partialFingerprints["latchkeySecret/v1"]).toMatch(/:[0-9a-f]{16}$/);
    }
    expect(r.out).not.toContain(key);
  });

  it("reads standard input", () => {
    expect(cli(clean, ["scan", "--stdin"], `curl -H "x-goog-api-key: ${fake.google()}"\n`).code).toBe(1);
    expect(cli(clean, ["scan", "--stdin"], "nothing to see\n").code).toBe(0);
  });
});

describe("latchkey scan --git", () => {
  it("finds a key committed and later removed, with commit and path", () => {
    const { dir, git } = gitRepo("history");
    const key = fake.openai("proj");
    writeFileSync(join(dir, "README.md"), "# app\n");
    git("add", "-A");
    git("commit", "-q", "-m", "start");
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src/llm.js"), `const client = new OpenAI({\n  apiKey: "${key}",\n});\n`);
    git("add", "-A");
    git("commit", "-q", "-m", "call the model");
    const leak = git("rev-parse", "HEAD").out.trim();
    writeFileSync(join(dir, "src/llm.js"), "const client = new OpenAI();\n");
    git("commit", "-q", "-am", "read the key from the environment");

    expect(cli(dir, ["scan"]).code).toBe(0);
    const r = cli(dir, ["scan", "--git"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("src/llm.js:2:12");
    expect(r.out).toContain(`commit ${leak.slice(0, 12)}`);
    expect(r.out).toContain("Ada Example <ada@example.test>");
    const json = JSON.parse(cli(dir, ["scan", "--git", "--format", "json"]).out);
    expect(json.findings[0]).toMatchObject({ rule_id: "openai-project-key", path: "src/llm.js", line: 2, commit: { sha: leak } });
    expect(cli(dir, ["scan", "--since", leak]).code).toBe(0);
  });
});

describe("latchkey hook install", () => {
  it("blocks a commit that adds a key and lets clean and allow-listed ones through", () => {
    const { dir, git } = gitRepo("hooked");
    const installed = cli(dir, ["hook", "install"]);
    expect(installed.code, installed.err).toBe(0);
    const hook = readFileSync(join(dir, ".git/hooks/pre-commit"), "utf8");
    expect(hook).toContain(ENTRY);

    writeFileSync(join(dir, "ok.txt"), "fine\n");
    git("add", "ok.txt");
    expect(git("commit", "-q", "-m", "clean").code).toBe(0);

    const token = fake.github();
    writeFileSync(join(dir, ".env"), `GITHUB_TOKEN=${token}\n`);
    git("add", ".env");
    const blocked = git("commit", "-q", "-m", "add env");
    expect(blocked.code).not.toBe(0);
    expect(blocked.out).toContain("commit blocked");
    expect(blocked.out).toContain(".env:1:14");
    expect(blocked.out).toContain("latchkey:allow");
    expect(blocked.out).toContain("--no-verify");
    expect(blocked.out).not.toContain(token);
    expect(git("rev-list", "--count", "HEAD").out.trim()).toBe("1");

    writeFileSync(join(dir, ".env"), `GITHUB_TOKEN=${token} # latchkey:allow (fixture)\n`);
    git("add", ".env");
    expect(git("commit", "-q", "-m", "fixture").code).toBe(0);
  });

  it("refuses to replace a hook it did not write unless --force", () => {
    const { dir } = gitRepo("foreign");
    const file = join(dir, ".git/hooks/pre-commit");
    writeFileSync(file, "#!/bin/sh\nexit 0\n");
    chmodSync(file, 0o755);
    const refused = cli(dir, ["hook", "install"]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("--force");
    expect(readFileSync(file, "utf8")).toBe("#!/bin/sh\nexit 0\n");
    expect(cli(dir, ["hook", "install", "--force"]).code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("latchkey pre-commit hook");
    expect(cli(dir, ["hook", "install"]).code).toBe(0); // its own hook: updated in place
    expect(cli(dir, ["hook", "uninstall"]).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });
});
