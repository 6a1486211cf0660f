/** Bad input at the edges: 400 in the caller's format with a request id, never a 500; files private. */
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

describe("malformed and over-deep input", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
  });
  afterAll(async () => t?.close());

  it("answers a malformed percent-escape in a gateway path with 400 in the endpoint's dialect, unauthenticated too", async () => {
    for (const [path, init] of [
      ["/v1beta/models/gemini%E0%A4%A:generateContent", { method: "POST", headers: { "x-goog-api-key": t.testKey }, body: "{}" }],
      ["/v1beta/models/%ZZ:generateContent", { method: "POST", body: "{}" }],
      ["/v1/models/%E0%A4%A", { method: "GET", headers: { authorization: `Bearer ${t.testKey}` } }],
    ] as const) {
      const r = await fetch(`${t.url}${path}`, init);
      expect(r.status, path).toBe(400);
      const text = await r.text();
      expect(text).toMatch(/malformed percent-escape/);
    }
  });

  it("answers a malformed percent-escape or an over-long id in a management path with our 400 and a request id", async () => {
    for (const path of ["/api/v1/keys/%E0%A4%A", `/api/v1/keys/${"k".repeat(5000)}`]) {
      const r = await t.api("GET", path);
      expect(r.status, path.slice(0, 40)).toBe(400);
      expect(r.body.error.request_id).toMatch(/^req_/);
    }
  });

  it("refuses a management body or key metadata nested 5,000 deep with 400", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const r1 = await t.api("POST", "/api/v1/workspaces", `{"name":"x","allowed_models":${deep}}`);
    expect(r1.status).toBe(400);
    expect(r1.body.error.request_id).toMatch(/^req_/);
    const meta = '{"a":'.repeat(5000) + "1" + "}".repeat(5000);
    const r2 = await t.api("POST", "/api/v1/keys", `{"name":"x","metadata":${meta}}`);
    expect(r2.status).toBe(400);
  });

  it("keeps the data directory 0700 and every database file 0600", () => {
    const dir = t.app.config.dataDir;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ["latchkey.db", "latchkey.db-wal", "latchkey.db-shm"]) {
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    }
  });
});
