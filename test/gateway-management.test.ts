/** Credentials and the model catalog through the whole app (management API, CLI, gateway) on every backend. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { run } from "../src/cli/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { databaseText, startApp, type TestApp } from "./support/app.js";

const all = await backends();
const SECRET = "sk-ant-api03-MANAGEMENT-SECRET-9d8c7b6a5f4e";

async function cli(t: TestApp, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    const code = await run(["node", "latchkey", ...args], { LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey, ...env });
    return { code, out: spy.mock.calls.map((c) => String(c[0])).join("") };
  } finally {
    spy.mockRestore();
  }
}

for (const b of all) {
  describe.skipIf(!b.available)(`credentials and models on ${b.name}`, () => {
    let backend: TestBackend;
    let t: TestApp;
    let sim: SimulatorServer;
    let liveKey: string;

    beforeAll(async () => {
      backend = await b.create();
      t = await startApp(backend);
      sim = await createSimulatorServer();
      liveKey = (await t.api("POST", "/api/v1/keys", { name: "app", kind: "live" })).body.key;
    });
    afterAll(async () => {
      await t?.close();
      await sim?.close();
      await backend?.cleanup();
    });

    const message = (model = "claude-sonnet-4-6") => fetch(`${t.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": liveKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: "user", content: "Hello, world" }] }),
    });

    it("stores a credential write-only, uses it, tests it, and never shows or stores the secret", async () => {
      expect((await message()).status).toBe(400);
      // A password in the base URL would be listed and audited: refused.
      const withPassword = new URL(sim.url);
      withPassword.username = "svc";
      withPassword.password = "hunter2-in-the-url";
      const refused = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "bad", secret: SECRET, base_url: withPassword.toString() });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).not.toContain("hunter2");
      const created = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "prod", secret: SECRET, base_url: sim.url });
      expect(created.status).toBe(201);
      expect(JSON.stringify(created.body)).not.toContain("MANAGEMENT-SECRET");
      expect(created.body).toMatchObject({ id: expect.stringMatching(/^cred_/), provider: "anthropic", hint: `sk-ant-…${SECRET.slice(-4)}` });
      const r = await message();
      expect(r.status).toBe(200);
      expect(sim.stats.byKey.get(SECRET)).toBe(1);
      const tested = await t.api("POST", `/api/v1/credentials/${created.body.id}/test`);
      expect(tested.body).toMatchObject({ ok: true, status: 200 });
      const listed = await t.api("GET", "/api/v1/credentials");
      expect(listed.body.data).toHaveLength(1);
      expect(JSON.stringify(listed.body)).not.toContain("MANAGEMENT-SECRET");
      const text = await databaseText(t, backend) + JSON.stringify(await t.app.database.db.selectFrom("provider_credentials").selectAll().execute());
      expect(text).not.toContain("MANAGEMENT-SECRET");
      expect(t.logs.join("")).not.toContain("MANAGEMENT-SECRET");
    });

    it("prices usage at the price in force when the request was made", async () => {
      const models = await t.api("GET", "/api/v1/models");
      const sonnet = models.body.data.find((m: { id: string }) => m.id === "claude-sonnet-4-6");
      expect(sonnet.pricing).toMatchObject({ input_usd_per_mtok: "3", output_usd_per_mtok: "15", cache_write_usd_per_mtok: "3.75", cache_read_usd_per_mtok: "0.3" });
      const before = (await message()).headers.get("request-id")!;
      const patched = await t.api("PATCH", "/api/v1/models/claude-sonnet-4-6", { pricing: { input_usd_per_mtok: "6", output_usd_per_mtok: "30" } });
      expect(patched.status).toBe(200);
      expect(patched.body.price_history).toHaveLength(2);
      const after = (await message()).headers.get("request-id")!;
      const rows = await vi.waitFor(async () => {
        const r = await t.app.database.db.selectFrom("usage_events").selectAll().where("id", "in", [before, after]).execute();
        if (r.length < 2) throw new Error("not yet");
        return r;
      });
      const cost = (id: string) => { const e = rows.find((x) => x.id === id)!; return { cost: Number(e.cost_nano), input: Number(e.input_tokens), output: Number(e.output_tokens) }; };
      const a = cost(before);
      const c = cost(after);
      expect(a.cost).toBe(a.input * 3000 + a.output * 15000);
      expect(c.cost).toBe(c.input * 6000 + c.output * 30000);
    });

    it("refuses a name another model already answers to, on create and on change; a dated price keeps the cache prices then in force", async () => {
      const pricing = { input_usd_per_mtok: "1", output_usd_per_mtok: "2" };
      expect((await t.api("POST", "/api/v1/models", { id: "house-model", provider: "openai", max_output_tokens: 1000, aliases: ["house-model"], pricing })).status).toBe(409);
      expect((await t.api("POST", "/api/v1/models", { id: "house-model", provider: "openai", max_output_tokens: 1000, aliases: ["house"], pricing })).status).toBe(201);
      const clash = await t.api("PATCH", "/api/v1/models/house-model", { aliases: ["house", "gpt-4o"] });
      expect(clash.status).toBe(409);
      expect(clash.body.error.message).toContain("gpt-4o");
      expect((await t.api("PATCH", "/api/v1/models/house-model", { aliases: ["house", "house-2"] })).status).toBe(200);
      // Haiku gets a new cache-write price now; a price dated 2020 (before it) keeps the one in force in 2020.
      expect((await t.api("PATCH", "/api/v1/models/claude-haiku-4-5", { pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "5", cache_write_usd_per_mtok: "9" } })).status).toBe(200);
      const dated = await t.api("PATCH", "/api/v1/models/claude-haiku-4-5", { pricing: { input_usd_per_mtok: "2", output_usd_per_mtok: "8", effective_at: "2020-01-01T00:00:00Z" } });
      expect(dated.status).toBe(200);
      const then = dated.body.price_history.find((p: { effective_at: string }) => p.effective_at.startsWith("2020"));
      expect(then).toMatchObject({ input_usd_per_mtok: "2", output_usd_per_mtok: "8", cache_write_usd_per_mtok: "1.25", cache_read_usd_per_mtok: "0.1" });
      expect(dated.body.pricing.cache_write_usd_per_mtok).toBe("9");
    });

    it("manages credentials and prices from the CLI", async () => {
      const added = await cli(t, ["credentials", "add", "--provider", "openai", "--name", "cli", "--from-env", "MY_SECRET", "--base-url", `${sim.url}/v1`], { MY_SECRET: "sk-proj-cli-secret-abcdef123456" });
      expect(added.code).toBe(0);
      expect(added.out).not.toContain("cli-secret");
      // Without --from-env or --stdin it refuses at once rather than wait on standard input.
      expect((await cli(t, ["credentials", "add", "--provider", "openai", "--name", "no-secret"])).code).not.toBe(0);
      const listed = await cli(t, ["--json", "credentials", "list"]);
      const ids = JSON.parse(listed.out).data.map((c: { id: string; provider: string }) => c.provider);
      expect(ids.sort()).toEqual(["anthropic", "openai"]);
      const priced = await cli(t, ["models", "set-price", "gpt-4o-mini", "--input", "0.2", "--output", "0.8"]);
      expect(priced.code).toBe(0);
      const list = await cli(t, ["--json", "models", "list"]);
      expect(JSON.parse(list.out).data.find((m: { id: string }) => m.id === "gpt-4o-mini").pricing.input_usd_per_mtok).toBe("0.2");
      const openaiId = JSON.parse(listed.out).data.find((c: { provider: string }) => c.provider === "openai").id;
      const removed = await cli(t, ["--json", "credentials", "remove", openaiId]);
      expect(removed.code).toBe(0);
      expect(JSON.parse(removed.out)).toMatchObject({ id: openaiId, deleted: true });
      expect((await t.api("GET", "/api/v1/credentials")).body.data).toHaveLength(1);
    });
  });
}
