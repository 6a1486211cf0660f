/**
 * Bad input on the management API is a 400 naming the field, never a 500 and never silently
 * changed: a non-URL base URL and an empty workspace id on a credential, text that is not valid
 * Unicode (a lone surrogate), a USD amount too small for nine decimals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

describe("management API edges", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startSqliteApp();
  });
  afterAll(async () => t?.close());

  const expect400 = (r: { status: number; body: any }, field: string) => {
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.request_id).toMatch(/^req_/);
    expect(JSON.stringify(r.body)).toContain(field);
  };

  it("refuses a credential with a base URL that is not one, or an empty workspace id", async () => {
    const base = { provider: "anthropic", name: "c", secret: "sk-ant-edge-secret" };
    for (const base_url of ["not a url", "ftp://example.com", ""]) {
      expect400(await t.api("POST", "/api/v1/credentials", { ...base, base_url }), "base_url");
    }
    expect400(await t.api("POST", "/api/v1/credentials", { ...base, workspace_id: "" }), "workspace_id");
    expect((await t.api("GET", "/api/v1/credentials")).body.data).toEqual([]);
  });

  it("refuses a lone surrogate anywhere in the body, and keeps valid astral text exact", async () => {
    const raw = (json: string) => t.api("POST", "/api/v1/workspaces", json);
    expect400(await raw('{"name":"team \\ud800"}'), "name");
    expect400(await raw('{"name":"\\udc00x"}'), "name");
    expect400(await t.api("POST", "/api/v1/keys", '{"name":"k","metadata":{"\\ud83d":"v"}}'), "metadata");
    const ok = await raw('{"name":"team \\ud83d\\ude00"}');
    expect(ok.status).toBe(201);
    expect((await t.api("GET", `/api/v1/workspaces/${ok.body.id}`)).body.name).toBe("team 😀");
  });

  it("refuses USD amounts nine decimals cannot hold instead of rounding them", async () => {
    expect400(await t.api("POST", "/api/v1/credits", { amount_usd: 5e-324, note: "tiny" }), "amount_usd");
    expect400(await t.api("POST", "/api/v1/credits", { amount_usd: 1.0000000001, note: "too fine" }), "amount_usd");
    expect400(await t.api("PATCH", "/api/v1/organization", { spend_limit: { amount_usd: 5e-324, period: "day" } }), "amount_usd");
    expect((await t.api("POST", "/api/v1/credits", { amount_usd: 0.25, note: "fine" })).status).toBe(201);
    expect((await t.api("GET", "/api/v1/organization")).body.spend_limit).toBeNull();
  });
  it("matches a model on the verify API as the gateway does: by the catalog model's id or any alias", async () => {
    const made = await t.api("POST", "/api/v1/models", { id: "house-model-v2", aliases: ["house"], provider: "openai", max_output_tokens: 1000, pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "2" } });
    expect(made.status).toBe(201);
    const byId = (await t.api("POST", "/api/v1/keys", { name: "by id", allowed_models: ["house-model-v2"] })).body.key as string;
    const byAlias = (await t.api("POST", "/api/v1/keys", { name: "by alias", allowed_models: ["house"] })).body.key as string;
    for (const key of [byId, byAlias]) {
      for (const model of ["house", "house-model-v2"]) {
        expect((await t.api("POST", "/api/v1/keys/verify", { key, model })).body.code, `${model}`).toBe("VALID");
      }
      expect((await t.api("POST", "/api/v1/keys/verify", { key, model: "gpt-4o" })).body.code).toBe("FORBIDDEN_MODEL");
    }
  });
});
