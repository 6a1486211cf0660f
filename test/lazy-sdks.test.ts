/**
 * The cloud providers' SDKs (Google's and Azure's auth libraries, the AWS signer and event-stream
 * codec) load when a credential first needs them, not at start: a node that serves none of those
 * clouds does not carry their memory (about 20 MB of RSS) or their load time. Checked on a real
 * process that starts the whole app and serves a live key (an Anthropic credential whose upstream
 * is the simulator) and a test key (the built-in simulator); every module it resolves is recorded
 * by a resolve hook (ES modules) and read from require.cache (CommonJS, how the AWS pieces load).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const CLOUD_SDKS = /node_modules\/(google-auth-library|gaxios|jsonwebtoken|@azure\/identity|@azure\/msal-node|@smithy\/signature-v4|@smithy\/core|@aws-crypto)\//;

describe("cloud SDKs load on first use", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-lazy-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are not loaded by a node that starts and serves live and test keys without a cloud credential", () => {
    const log = join(dir, "resolved.log");
    writeFileSync(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}
`);
    writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`);
    const main = pathToFileURL(join(ROOT, "dist", "src", "main.js")).href;
    const config = pathToFileURL(join(ROOT, "dist", "src", "config", "index.js")).href;
    const providers = pathToFileURL(join(ROOT, "dist", "src", "providers", "index.js")).href;
    // Two requests: a live key through an Anthropic credential whose upstream is the simulator (the
    // path production takes), and a test key (the built-in simulator).
    writeFileSync(join(dir, "serve.mjs"), `import { createRequire } from "node:module";
const { loadConfig } = await import(${JSON.stringify(config)});
const { createApp } = await import(${JSON.stringify(main)});
const { createSimulatorServer } = await import(${JSON.stringify(providers)});
const sim = await createSimulatorServer();
const app = await createApp(loadConfig({ env: {}, overrides: { dataDir: ${JSON.stringify(join(dir, "data"))}, port: 0, logLevel: "fatal", masterKey: "44".repeat(32), allowPrivateUpstreams: "127.0.0.0/8" } }));
const url = await app.listen();
const admin = app.bootstrap.created.adminKey;
const api = async (path, body) => (await fetch(url + path, { method: "POST", headers: { authorization: "Bearer " + admin, "content-type": "application/json" }, body: JSON.stringify(body) })).json();
await api("/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-lazy", base_url: sim.url });
const statuses = [];
for (const kind of ["live", "test"]) {
  const { key } = await api("/api/v1/keys", { name: "lazy-" + kind, kind });
  const r = await fetch(url + "/v1/messages", { method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }) });
  statuses.push(r.status);
  await r.text();
}
await app.close();
await sim.close();
process.stdout.write(JSON.stringify({ statuses, cjs: Object.keys(createRequire(import.meta.url).cache) }));
`);
    const run = spawnSync(process.execPath, ["--import", pathToFileURL(join(dir, "register.mjs")).href, join(dir, "serve.mjs")], { encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const { statuses, cjs } = JSON.parse(run.stdout) as { statuses: number[]; cjs: string[] };
    expect(statuses).toEqual([200, 200]);
    const esm = readFileSync(log, "utf8").split("\n").filter(Boolean);
    // The hook and the cache see the app's own dependencies: an empty list would pass for nothing.
    expect(esm.some((u) => u.includes("/node_modules/undici/") || u.includes("/node_modules/fastify/"))).toBe(true);
    expect(cjs.some((f) => f.includes("/node_modules/fastify/"))).toBe(true);
    expect(esm.filter((u) => CLOUD_SDKS.test(u))).toEqual([]);
    expect(cjs.filter((f) => CLOUD_SDKS.test(f))).toEqual([]);
  }, 90_000);
});
