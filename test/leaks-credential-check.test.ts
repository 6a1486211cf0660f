/**
 * "Is this one of ours?" for provider credentials, against a whole running Latchkey: a held
 * credential committed to a repository is found by `latchkey scan --git --check`, named, and raises
 * `credential.leaked` once; a GitHub leak report of one does the same. The secret is never sent,
 * stored, logged or shown.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createSign, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/lib/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { databaseText, startApp, type TestApp } from "./support/app.js";
import { fake, serviceAccountJson } from "./fixtures/leaks/fake-keys.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const ENTRY = join(ROOT, "bin/latchkey.js");
const github = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const KEY_ID = "4f3c2b1a".repeat(8);

interface Alert { type: string; subject_type: string; subject_id: string; data: Record<string, unknown> & { rotate: string; found: Record<string, unknown> } }

describe("provider credentials found leaked", () => {
  let backend: TestBackend;
  let t: TestApp;
  const repo = mkdtempSync(join(tmpdir(), "latchkey-leaked-"));
  const openaiSecret = fake.openai("proj");
  const sa = serviceAccountJson();
  let openaiCred: string;
  let vertexCred: string;

  beforeAll(async () => {
    // The CLI runs from dist/, built by npm test or the suite's global setup (test/support/build-dist.ts).
    // Not rebuilt here: a build rewrites dist/ file by file under the CLIs and servers that other
    // test files run from it at the same time (one of them failed on a half-written dist/).
    if (!existsSync(join(ROOT, "dist/src/cli/scan.js"))) throw new Error("dist/src/cli/scan.js is missing: build with npx tsc -p tsconfig.json");
    backend = await (await backends())[0]!.create();
    const pem = github.publicKey.export({ type: "spki", format: "pem" }).toString();
    t = await startApp(backend, { githubPublicKeys: JSON.stringify([{ key_identifier: KEY_ID, key: pem }]) });
    openaiCred = (await t.api("POST", "/api/v1/credentials", { provider: "openai", name: "prod openai", secret: openaiSecret })).body.id;
    vertexCred = (await t.api("POST", "/api/v1/credentials", { provider: "gemini", name: "vertex sa", secret: sa.json })).body.id;
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await backend?.cleanup();
    rmSync(repo, { recursive: true, force: true });
  });

  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });
  const alertsOf = async (id: string): Promise<Alert[]> =>
    ((await t.api("GET", `/api/v1/alerts?type=credential.leaked&subject_id=${id}`)).body.data as Alert[]);

  async function scan(...args: string[]): Promise<{ code: number; out: string }> {
    const env = { ...process.env, NO_COLOR: "1", LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey, LATCHKEY_DATA_DIR: repo };
    try {
      return { code: 0, out: (await run(process.execPath, [ENTRY, "scan", ...args], { cwd: repo, env })).stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, out: e.stdout };
    }
  }

  it("scan --git --check finds committed copies, names the credentials, and alerts once each", async () => {
    git("init", "-q", "-b", "main");
    const commit = (m: string) => git("-c", "user.name=Dev", "-c", "user.email=dev@example.test", "commit", "-q", "--no-verify", "-m", m);
    writeFileSync(join(repo, "README.md"), "# app\n");
    git("add", "-A");
    commit("initial");
    mkdirSync(join(repo, "config"));
    writeFileSync(join(repo, "config/app.json"), JSON.stringify({ upstream: { value: openaiSecret }, other: { value: fake.openai("proj") } }, null, 2));
    writeFileSync(join(repo, "config/vertex.json"), sa.json);
    git("add", "-A");
    commit("add config");
    git("rm", "-q", "-r", "config");
    commit("remove config");

    const first = await scan("--git", "--check", "--format", "json");
    expect(first.code).toBe(1);
    const findings = (JSON.parse(first.out) as { findings: { rule_id: string; path: string; status: string }[] }).findings;
    const held = findings.filter((f) => f.status.startsWith("HELD BY THIS SERVER"));
    expect(held.map((f) => `${f.rule_id} ${f.path} ${f.status.split(" ")[4]}`).sort()).toEqual([
      `google-service-account-key config/vertex.json ${vertexCred}`,
      `openai-project-key config/app.json ${openaiCred}`,
      `private-key config/vertex.json ${vertexCred}`,
    ]);
    expect(findings.filter((f) => f.status === "not a provider credential of this server")).toHaveLength(1);
    expect(first.out).not.toContain(openaiSecret);

    const [openaiAlert] = await alertsOf(openaiCred);
    expect(await alertsOf(openaiCred)).toHaveLength(1);
    expect(openaiAlert).toMatchObject({ subject_type: "provider_credential", data: { name: "prod openai", provider: "openai", part: "secret" } });
    expect(openaiAlert!.data.rotate).toContain("https://platform.openai.com/api-keys");
    expect(openaiAlert!.data.rotate).toContain(`latchkey credentials remove ${openaiCred}`);
    expect(String(openaiAlert!.data.found.source)).toContain("latchkey scan --git");
    expect(await alertsOf(vertexCred)).toHaveLength(1);

    // Scanned again (and the human report): the same credentials, no second alert.
    const again = await scan("--git", "--check");
    expect(again.out).toContain(`HELD BY THIS SERVER: ${openaiCred} "prod openai"`);
    expect(await alertsOf(openaiCred)).toHaveLength(1);
    expect(await alertsOf(vertexCred)).toHaveLength(1);
  });

  it("a key without credentials:read still checks Latchkey keys; provider credentials are said to be unchecked, and no alert fires", async () => {
    const keysOnly = (await t.api("POST", "/api/v1/keys", { name: "keys reader", kind: "admin", scopes: ["keys:read"] })).body.key as string;
    const secret = fake.perplexity();
    const id = (await t.api("POST", "/api/v1/credentials", { provider: "openai-compatible", name: "pplx", secret, base_url: "https://api.perplexity.example" })).body.id;
    const dir = mkdtempSync(join(tmpdir(), "latchkey-scope-"));
    const live = (await t.api("POST", "/api/v1/keys", { name: "app" })).body as { id: string; key: string };
    writeFileSync(join(dir, "a.env"), `PPLX=${secret}\nLK=${live.key}\n`);
    const env = { ...process.env, NO_COLOR: "1", LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: keysOnly, LATCHKEY_DATA_DIR: dir };
    const r = await run(process.execPath, [ENTRY, "scan", "--check", "--format", "json", "a.env"], { cwd: dir, env }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    rmSync(dir, { recursive: true, force: true });
    expect((r as { code: number }).code).toBe(1);
    const statuses = (JSON.parse((r as { stdout: string }).stdout) as { findings: { rule_id: string; status: string }[] }).findings.map((f) => `${f.rule_id}: ${f.status.split(" (")[0]}`);
    expect(statuses).toEqual(["perplexity-api-key: provider credentials not checked", `latchkey-key: LIVE: ${live.id} "app"`]);
    expect((r as { stderr: string }).stderr).toContain("provider credentials not checked");
    expect(await alertsOf(id)).toEqual([]);
  });

  it("a GitHub leak report of a held credential is a true positive and raises no second alert", async () => {
    const body = JSON.stringify([
      { token: openaiSecret, type: "openai_api_key", url: "https://github.com/o/r/blob/x/a.json", source: "content" },
      { token: fake.openai("proj"), type: "openai_api_key", url: "", source: "commit" },
    ]);
    const r = await fetch(`${t.url}/api/v1/leaks/github`, {
      method: "POST", body,
      headers: { "content-type": "application/json", "github-public-key-identifier": KEY_ID,
        "github-public-key-signature": createSign("sha256").update(body).sign(github.privateKey).toString("base64") },
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { label: string }[]).map((f) => f.label)).toEqual(["true_positive", "false_positive"]);
    expect(await alertsOf(openaiCred)).toHaveLength(1);
  });

  it("a GitHub report raises the alert for a credential no scan found before, with where GitHub saw it", async () => {
    const secret = fake.groq();
    const id = (await t.api("POST", "/api/v1/credentials", { provider: "openai-compatible", name: "groq", secret, base_url: "https://api.groq.example/openai/v1" })).body.id;
    const body = JSON.stringify([{ token: secret, type: "groq_api_key", url: "https://github.com/o/r/commit/abc", source: "commit" }]);
    const r = await fetch(`${t.url}/api/v1/leaks/github`, {
      method: "POST", body,
      headers: { "content-type": "application/json", "github-public-key-identifier": KEY_ID,
        "github-public-key-signature": createSign("sha256").update(body).sign(github.privateKey).toString("base64") },
    });
    expect(((await r.json()) as { label: string }[])[0]!.label).toBe("true_positive");
    const alerts = await alertsOf(id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.data.found).toMatchObject({ url: "https://github.com/o/r/commit/abc", reporter: "github" });
  });

  it("the lookup needs credentials:read, and answers only by digest", async () => {
    const weak = (await t.api("POST", "/api/v1/keys", { name: "usage only", kind: "admin", scopes: ["usage:read"] })).body.key as string;
    const refused = await t.api("POST", "/api/v1/credentials/lookup", { sha256: [sha256Hex(openaiSecret)] }, weak);
    expect(refused.status).toBe(403);
    expect((await t.api("POST", "/api/v1/credentials/lookup", { sha256: [openaiSecret] })).status).toBe(400);
    const ok = await t.api("POST", "/api/v1/credentials/lookup", { sha256: [sha256Hex(openaiSecret)] });
    expect(ok.body.data[0]).toMatchObject({ found: true, credentials: [{ id: openaiCred, part: "secret" }] });
  });

  it("neither the secret nor its plain digest is in the database, the logs or the alerts", async () => {
    const stored = await databaseText(t, backend);
    for (const s of [openaiSecret, sha256Hex(openaiSecret), sa.keyId, sha256Hex(sa.keyId)]) {
      expect(stored).not.toContain(s);
      expect(t.logs.join("\n")).not.toContain(s);
      expect(JSON.stringify((await t.api("GET", "/api/v1/alerts?limit=100")).body)).not.toContain(s);
    }
  });
});
