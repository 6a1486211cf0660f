/** `latchkey scan --check / --revoke` against a whole running Latchkey: keys found in files are looked up by hash and revoked. */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type TestBackend } from "./support/backends.js";
import { startApp, type TestApp } from "./support/app.js";
import { fake } from "./fixtures/leaks/fake-keys.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const usesBin = readFileSync(join(ROOT, "src/cli/index.ts"), "utf8").includes("registerScanCommand");
const ENTRY = usesBin ? join(ROOT, "bin/latchkey.js") : join(ROOT, "test/fixtures/leaks/cli-runner.mjs");

describe("latchkey scan --check and --revoke", () => {
  let backend: TestBackend;
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), "latchkey-check-"));

  beforeAll(async () => {
    // The CLI runs from dist/, built by npm test or the suite's global setup (test/support/build-dist.ts),
    // never here, under the CLIs and servers other test files run from it at the same time.
    if (!existsSync(join(ROOT, "dist/src/cli/scan.js"))) throw new Error("dist/src/cli/scan.js is missing: build with npx tsc -p tsconfig.json");
    backend = await (await backends())[0]!.create();
    t = await startApp(backend);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await backend?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function scan(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const env = { ...process.env, NO_COLOR: "1", LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey, LATCHKEY_DATA_DIR: dir };
    try {
      const r = await run(process.execPath, [ENTRY, "scan", ...args], { cwd: dir, env });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout, err: e.stderr };
    }
  }

  it("says which found keys are live, sending only hashes, and revokes them on request", async () => {
    const leaked = (await t.api("POST", "/api/v1/keys", { name: "deploy bot" })).body as { id: string; key: string };
    const old = (await t.api("POST", "/api/v1/keys", { name: "old" })).body as { id: string; key: string };
    await t.api("POST", `/api/v1/keys/${old.id}/revoke`, {});
    const stranger = fake.latchkey();
    writeFileSync(join(dir, "deploy.env"), `LATCHKEY_KEY=${leaked.key}\nOLD=${old.key}\nOTHER=${stranger}\n`);

    const checked = await scan("--check");
    expect(checked.code).toBe(1);
    expect(checked.out).toContain(`LIVE: ${leaked.id} "deploy bot"`);
    expect(checked.out).toContain(`revoked: ${old.id} "old"`);
    expect(checked.out).toContain("not a key of this server");
    expect((await t.api("GET", `/api/v1/keys/${leaked.id}`)).body.status).toBe("active");

    const revoked = await scan("--revoke", "--format", "json");
    expect(revoked.code).toBe(1);
    const report = JSON.parse(revoked.out) as { findings: { line: number; status: string }[] };
    expect(report.findings.map((f) => f.status.split(":")[0])).toEqual(["revoked now", "revoked", "not a key of this server (unknown, or another organization's)"]);
    expect((await t.api("GET", `/api/v1/keys/${leaked.id}`)).body.status).toBe("revoked");
    expect(revoked.out).not.toContain(leaked.key);
  });

  it("exits 2 when the server cannot be reached", async () => {
    writeFileSync(join(dir, "k.txt"), fake.latchkey());
    const env = { ...process.env, NO_COLOR: "1", LATCHKEY_URL: "http://127.0.0.1:9", LATCHKEY_ADMIN_KEY: t.adminKey, LATCHKEY_DATA_DIR: dir };
    const r = await run(process.execPath, [ENTRY, "scan", "--check", "k.txt"], { cwd: dir, env }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain("--check");
  });
});
