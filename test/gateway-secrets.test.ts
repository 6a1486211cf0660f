import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { SERVICES_REQUIRED } from "./support/services.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateMasterKey } from "../src/store/index.js";
import { generateMasterKey } from "../src/lib/envelope.js";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

const SECRET = "sk-ant-api03-NEVER-READABLE-7f3a9c1e5b2d4f6a8c0e";
let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", SECRET);
  key = await h.issueKey();
});
afterAll(async () => h?.close());

/** curl itself where it is installed (CI installs it); elsewhere the same request by fetch, said aloud. */
function hasCurl(): boolean {
  if (spawnSync("curl", ["--version"]).status === 0) return true;
  if (SERVICES_REQUIRED) throw new Error("curl is required (LATCHKEY_TEST_SERVICES=required) but not installed; apt-get install curl");
  console.warn("\n*** curl is not installed: the docs' curl example is sent with fetch instead. ***\n");
  return false;
}

describe("the Anthropic docs' curl example, with only the host changed", () => {
  it("answers a message", async () => {
    const data = '{"model": "claude-opus-4-7", "max_tokens": 1024, "messages": [{"role": "user", "content": "Hello, world"}]}';
    let text: string;
    if (hasCurl()) {
      // Asynchronously: the gateway answers from this same process.
      text = (await promisify(execFile)("curl", ["-sS", `${h.url}/v1/messages`,
        "--header", `x-api-key: ${key}`, "--header", "anthropic-version: 2023-06-01", "--header", "content-type: application/json",
        "--data", data], { encoding: "utf8" })).stdout;
    } else {
      const r = await fetch(`${h.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: data });
      text = await r.text();
    }
    const msg = JSON.parse(text) as { type: string; model: string; content: { text: string }[] };
    expect(msg.type).toBe("message");
    expect(msg.model).toBe("claude-opus-4-7");
    expect(msg.content[0]!.text.length).toBeGreaterThan(0);
  });
});

describe("provider credentials at rest", () => {
  it("reaches the upstream with the secret but never stores or logs it in the clear", async () => {
    const r = await fetch(`${h.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
    expect(r.status).toBe(200);
    expect(h.sim.stats.byKey.get(SECRET)).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await h.usage()).length > 0);
    const files = [h.dbFile, `${h.dbFile}-wal`, `${h.dbFile}-shm`].filter(existsSync);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
      expect(bytes.includes(Buffer.from("NEVER-READABLE"))).toBe(false);
      expect(bytes.includes(Buffer.from(key))).toBe(false);
    }
    const logs = h.logs.join("");
    expect(logs).not.toContain("NEVER-READABLE");
    expect(logs).not.toContain(key);
    const listed = await h.store.credentials.list(h.orgId);
    expect(JSON.stringify(listed)).not.toContain("NEVER-READABLE");
    expect(listed[0]!.hint).toBe("sk-ant-…4f6a8c0e".replace("4f6a8c0e", SECRET.slice(-4)));
  });

  it("re-wraps every data key when the master key rotates", async () => {
    const next = generateMasterKey();
    expect(await rotateMasterKey(h.database, h.masterKey, next)).toMatchObject({ credentials: 1, audit: { ok: true } });
    const [cred] = await h.store.credentials.list(h.orgId);
    expect(await h.store.credentials.secretOf(cred!.id, next)).toBe(SECRET);
    await expect(h.store.credentials.secretOf(cred!.id, h.masterKey)).rejects.toThrow();
  });
});
