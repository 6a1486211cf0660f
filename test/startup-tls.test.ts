/**
 * Start-up: the port is bound before anything is created (a first run on a busy port leaves no
 * organization, keys, database or master key behind, and says why), and optional TLS from PEM
 * files, with a self-signed certificate made here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { createApp } from "../src/main.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("first run on a busy port", () => {
  let busy: Server;
  let port = 0;
  let dir = "";
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, "127.0.0.1", ok));
    port = (busy.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), "latchkey-busy-"));
  });
  afterAll(async () => {
    await new Promise((ok) => busy.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates nothing and rejects with EADDRINUSE (in process)", async () => {
    const dataDir = join(dir, "in-process");
    const config = loadConfig({ env: {}, overrides: { dataDir, port, host: "127.0.0.1", logLevel: "fatal" } });
    await expect(createApp(config)).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(existsSync(dataDir)).toBe(false);
  });

  it("`latchkey up` says the port is in use, exits non-zero, and leaves no data directory", () => {
    const dataDir = join(dir, "cli");
    const r = spawnSync(process.execPath, [join(ROOT, "bin/latchkey.js"), "up", "--port", String(port), "--data-dir", dataDir], {
      cwd: dir, encoding: "utf8", timeout: 30_000, env: { PATH: process.env.PATH, HOME: dir },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`port ${port} is in use`);
    expect(r.stdout).not.toMatch(/lk_admin_/);
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
  });
});

describe("TLS", () => {
  let dir = "";
  let cert = "";
  let t: TestApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latchkey-tls-"));
    const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    t = await startSqliteApp({ tlsCertFile: join(dir, "cert.pem"), tlsKeyFile: join(dir, "key.pem") });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves HTTPS with the certificate given: health, management API and a gateway request", async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const dispatcher = new Agent({ connect: { ca: cert } });
    try {
      expect((await undiciFetch(`${t.url}/healthz`, { dispatcher })).status).toBe(200);
      const keys = await undiciFetch(`${t.url}/api/v1/keys`, { dispatcher, headers: { authorization: `Bearer ${t.adminKey}` } });
      expect(keys.status).toBe(200);
      const r = await undiciFetch(`${t.url}/v1/messages`, {
        dispatcher, method: "POST", headers: { "x-api-key": t.testKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ type: "message" });
    } finally {
      await dispatcher.close();
    }
  });

  it("does not answer plain HTTP, and a client that does not trust the certificate refuses it", async () => {
    const plain = t.url.replace("https:", "http:");
    const answer = await fetch(`${plain}/healthz`).then((r) => r.status, () => "failed");
    expect(answer === "failed" || answer === 400).toBe(true);
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });

  it("refuses a certificate without its key, and names unreadable files before anything is created", async () => {
    expect(() => loadConfig({ env: { LATCHKEY_TLS_CERT_FILE: join(dir, "cert.pem") } })).toThrow(ConfigError);
    const dataDir = join(dir, "never");
    writeFileSync(join(dir, "broken.pem"), "not a certificate");
    const config = loadConfig({ env: {}, overrides: { dataDir, port: 0, tlsCertFile: join(dir, "broken.pem"), tlsKeyFile: join(dir, "missing.pem"), logLevel: "fatal" } });
    await expect(createApp(config)).rejects.toThrow(/TLS certificate or key/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
