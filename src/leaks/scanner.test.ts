import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fake } from "../../test/fixtures/leaks/fake-keys.js";
import { parseAllowList } from "./allowlist.js";
import { scanPaths, scanStream, scanText } from "./scanner.js";

const dir = mkdtempSync(join(tmpdir(), "latchkey-scan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(rel: string, content: string | Buffer): void {
  mkdirSync(join(dir, rel, ".."), { recursive: true });
  writeFileSync(join(dir, rel), content);
}

describe("scanText", () => {
  it("reports rule, confidence, masked secret, line and column", () => {
    const key = fake.anthropic();
    const [f] = scanText(`line one\n  const k = "${key}";\n`, "a.ts");
    expect(f).toMatchObject({ ruleId: "anthropic-api-key", confidence: "high", secret: key, line: 2, column: 14, path: "a.ts" });
    expect(f!.masked).toBe(`${key.slice(0, 16)}…${key.slice(-4)}`);
    expect(f!.fingerprint).toMatch(/^anthropic-api-key:[0-9a-f]{16}$/);
  });

  it("skips a line marked latchkey:allow", () => {
    expect(scanText(`k = "${fake.github()}" // latchkey:allow\nk2 = "${fake.github()}"\n`, "x")).toHaveLength(1);
  });

  it("recognises keys with a deployment's own prefixes", () => {
    const key = fake.latchkey("acme_");
    expect(scanText(key, "x")).toHaveLength(0);
    expect(scanText(key, "x", { latchkeyPrefixes: ["acme_"] })[0]?.ruleId).toBe("latchkey-key");
  });
});

describe("scanPaths", () => {
  const live = fake.latchkey();
  put("src/config.json", `{"key": "${live}"}\n`);
  put("src/clean.ts", "export const x = 1;\n");
  put("build/out.js", `var k="${fake.github()}";\n`);
  put(".gitignore", "build/\n*.log\n");
  put("debug.log", `${fake.google()}\n`);
  put("node_modules/pkg/index.js", `${fake.google()}\n`);
  put(".git/config", `${fake.google()}\n`);
  put("image.bin", Buffer.concat([Buffer.from(fake.google()), Buffer.from([0, 1, 2])]));
  put("big.txt", `${fake.google()}\n${"x".repeat(2000)}`);
  put("fixtures/sample.env", `TOKEN=${fake.github()}\n`);
  put("nested/.gitignore", "secret.txt\n");
  put("nested/secret.txt", `${fake.google()}\n`);
  put("nested/visible.txt", `${fake.slack()}\n`);

  it("walks folders honouring .gitignore, skipping .git, node_modules, binaries and large files", async () => {
    const result = await scanPaths([dir], { maxFileBytes: 1000 });
    const found = result.findings.map((f) => `${f.path!.split("/").slice(-2).join("/")}:${f.ruleId}`).sort();
    expect(found).toEqual(["fixtures/sample.env:github-token", "nested/visible.txt:slack-token", "src/config.json:latchkey-key"]);
    expect(result.skipped.map((s) => `${s.path.split("/").pop()}:${s.reason}`).sort()).toEqual(["big.txt:too-large", "image.bin:binary"]);
  });

  it("honours an allow-list of paths and fingerprints", async () => {
    const first = await scanPaths([dir], { maxFileBytes: 1000 });
    const slack = first.findings.find((f) => f.ruleId === "slack-token")!;
    const allow = parseAllowList(`# fixtures\nfixtures/\n${slack.fingerprint}\n`, dir);
    const result = await scanPaths([dir], { allowList: allow, maxFileBytes: 1000 });
    expect(result.findings.map((f) => f.ruleId)).toEqual(["latchkey-key"]);
  });

  it("reports a missing path as an error", async () => {
    const result = await scanPaths([join(dir, "nope")]);
    expect(result.errors).toHaveLength(1);
  });
});

describe("scanStream", () => {
  it("reads standard input", async () => {
    const key = fake.aws();
    const result = await scanStream(Readable.from([`export AWS_ACCESS_KEY_ID=${key.slice(0, 5)}`, `${key.slice(5)}\n`]));
    expect(result.findings).toMatchObject([{ ruleId: "aws-access-key-id", secret: key, path: "<stdin>" }]);
  });
});
