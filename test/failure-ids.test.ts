/**
 * A request that fails after it was admitted keeps its own id everywhere: the response header, the
 * body (Anthropic's errors name it), the usage record and the access log line; and it has exactly
 * one usage record with an error code. Real faults from a real upstream: a refused connection, a
 * 5xx answer, a stream or a JSON body that dies half way; and a throw on the gateway's own path
 * (Redis answering an error), which used to be answered under a fresh id with no record at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";

describe("a failed request's id and its one usage record", () => {
  let sim: SimulatorServer;
  let t: TestApp;
  let live = "";
  let refusedKey = "";

  beforeAll(async () => {
    sim = await createSimulatorServer();
    const gone = await createSimulatorServer();
    const closedUrl = gone.url;
    await gone.close();
    t = await startSqliteApp({ upstreamMaxAttempts: 2 });
    for (const [provider, baseUrl] of [["anthropic", sim.url], ["openai", `${sim.url}/v1`]] as const) {
      const added = await t.api("POST", "/api/v1/credentials", { provider, name: `sim ${provider}`, secret: `sk-${provider}-ids`, base_url: baseUrl });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
    }
    live = (await t.api("POST", "/api/v1/keys", { name: "live", kind: "live" })).body.key;
    // A workspace whose own credential points at a port nothing listens on: its calls are refused.
    const ws = (await t.api("POST", "/api/v1/workspaces", { name: "refused" })).body;
    expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "gone", secret: "sk-ant-gone", base_url: closedUrl, workspace_id: ws.id })).status).toBe(201);
    refusedKey = (await t.api("POST", "/api/v1/keys", { name: "refused", kind: "live", workspace_id: ws.id })).body.key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const anthropic = (key: string, content: string, stream = false) => fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 40, stream, messages: [{ role: "user", content }] }),
  });
  const openai = (content: string, stream = false) => fetch(`${t.url}/v1/chat/completions`, {
    method: "POST", headers: { authorization: `Bearer ${live}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", max_tokens: 40, stream, messages: [{ role: "user", content }] }),
  });

  /** The request's one usage record (by the id in its header) and its one access line. */
  async function recordOf(id: string) {
    const db = t.app.database.db;
    const rows = await readUntil(() => db.selectFrom("usage_events").selectAll().where("id", "=", id).execute(), (r) => r.length > 0);
    expect(rows).toHaveLength(1);
    // The store keeps one row per id whatever happens; the access log shows each record made.
    const lines = t.logs.filter((l) => l.includes(`"kind":"access"`) && l.includes(`"requestId":"${id}"`));
    expect(lines, "one record (and access line) per request").toHaveLength(1);
    return rows[0]!;
  }

  it("a refused connection: 502 under the request's id, recorded once with the connection error", async () => {
    const r = await anthropic(refusedKey, "hello");
    const id = r.headers.get("request-id")!;
    const body = (await r.json()) as any;
    expect(r.status).toBe(502);
    expect(id).toMatch(/^req_/);
    expect(body.request_id).toBe(id);
    const row = await recordOf(id);
    expect(row.status).toBe(502);
    expect(row.error_code).toBe("ECONNREFUSED");
  });

  it("a 5xx answer: the provider's error with the request's id in the body as in the header", async () => {
    const r = await anthropic(live, "sim-fault:500");
    const id = r.headers.get("request-id")!;
    const body = (await r.json()) as any;
    expect(r.status).toBe(500);
    expect(body).toMatchObject({ type: "error", error: { type: "api_error", message: "Simulated 500 error." } });
    expect(body.request_id).toBe(id);
    // The provider's own id is kept, under its own header.
    expect(r.headers.get("latchkey-upstream-request-id")).toMatch(/\S/);
    expect(r.headers.get("latchkey-upstream-request-id")).not.toBe(id);
    const row = await recordOf(id);
    expect(row.status).toBe(500);
    expect(row.error_code).toBe("upstream_status");
  });

  it("a stream that dies: the in-band error names the request's id; recorded once as a 502", async () => {
    const r = await anthropic(live, "sim-fault:die sim-tokens:30", true);
    const id = r.headers.get("request-id")!;
    expect(r.status).toBe(200);
    const text = await r.text();
    const error = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6))).find((e) => e.type === "error");
    expect(error).toMatchObject({ type: "error", request_id: id });
    const row = await recordOf(id);
    expect(row.status).toBe(502);
    expect(row.error_code).not.toBeNull();
  });

  it("an OpenAI stream that dies: the connection is cut, the header's id is recorded once as a 502", async () => {
    const r = await openai("sim-fault:die sim-tokens:30", true);
    const id = r.headers.get("x-request-id")!;
    expect(id).toMatch(/^req_/);
    await expect(r.text()).rejects.toThrow();
    expect((await recordOf(id)).status).toBe(502);
  });

  it("a JSON body that dies: a 502 under the request's id (or a cut, had bytes gone out), recorded once", async () => {
    const r = await anthropic(live, "sim-fault:die");
    const id = r.headers.get("request-id")!;
    expect(id).toMatch(/^req_/);
    const text = await r.text().catch(() => null);
    // The body broke off before the gateway passed any of it on: the caller is told in its format.
    if (text !== null) expect(JSON.parse(text)).toMatchObject({ type: "error", request_id: id });
    expect((await recordOf(id)).status).toBe(502);
  });

  it("a 503 in OpenAI's format carries the request's id in x-request-id and the record", async () => {
    const r = await openai("sim-fault:503");
    const id = r.headers.get("x-request-id")!;
    expect(r.status).toBe(503);
    await r.arrayBuffer();
    const row = await recordOf(id);
    expect(row.status).toBe(503);
  });
});
