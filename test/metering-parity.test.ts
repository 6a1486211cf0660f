/**
 * Money through the real gateway: a streamed request costs exactly what its non-streamed twin
 * costs in every dialect, priced per token type from the catalog; and after thousands of requests
 * with random aborts and upstream errors no reservation is left open and the spend counter equals
 * the sum of the usage records.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";

describe("metering through the gateway", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
  });
  afterAll(async () => t?.close());

  const post = (path: string, headers: Record<string, string>, body: unknown, signal?: AbortSignal) =>
    fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body), signal });

  const eventsOf = (keyId: string) => t.app.database.db.selectFrom("usage_events").selectAll().where("key_id", "=", keyId).orderBy("at").execute();

  async function eventsFor(keyId: string, n: number) {
    const rows = await readUntil(() => eventsOf(keyId), (r) => r.length >= n);
    if (rows.length < n) throw new Error(`usage events did not arrive: ${rows.length} of ${n}`);
    return rows;
  }

  it("prices streams exactly like their non-streamed twins, in all three dialects", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "parity", kind: "test" })).body;
    const prompt = "Tell me a story. sim-tokens:40 sim-cache-read:7 sim-cache-write:5";
    const anthropic = { "x-api-key": k.key, "anthropic-version": "2023-06-01" };
    const openai = { authorization: `Bearer ${k.key}` };
    const gemini = { "x-goog-api-key": k.key };
    const calls: [string, Record<string, string>, unknown][] = [
      ["/v1/messages", anthropic, { model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: prompt }] }],
      ["/v1/messages", anthropic, { model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: prompt }] }],
      ["/v1/chat/completions", openai, { model: "gpt-4o-mini", messages: [{ role: "user", content: prompt }] }],
      ["/v1/chat/completions", openai, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: prompt }] }],
      ["/v1beta/models/gemini-2.5-flash:generateContent", gemini, { contents: [{ role: "user", parts: [{ text: prompt }] }] }],
      ["/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", gemini, { contents: [{ role: "user", parts: [{ text: prompt }] }] }],
    ];
    for (const [path, headers, body] of calls) {
      const r = await post(path, headers, body);
      expect(r.status, path).toBe(200);
      await r.arrayBuffer();
    }
    const rows = await eventsFor(k.id, 6);
    for (let i = 0; i < 6; i += 2) {
      const [plain, streamed] = [rows[i]!, rows[i + 1]!];
      expect(streamed.streamed).toBe(1);
      expect(plain.streamed).toBe(0);
      for (const f of ["input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "cost_nano"] as const) {
        expect(streamed[f], `${plain.model} ${f}`).toBe(plain[f]);
      }
      expect(plain.output_tokens).toBe(40);
      expect(plain.cost_nano).toBeGreaterThan(0);
    }
    // claude-sonnet-4-6 at $3 in, $15 out, $3.75 cache write, $0.30 cache read per million tokens,
    // that is 3,000, 15,000, 3,750 and 300 nano-USD a token:
    const c = rows[0]!;
    const expected = c.input_tokens * 3000 + c.output_tokens * 15_000 + c.cache_write_tokens * 3750 + c.cache_read_tokens * 300;
    expect(c.cache_read_tokens).toBe(7);
    expect(c.cache_write_tokens).toBe(5);
    expect(c.cost_nano).toBe(expected);
  });

  it("leaves no reservation open and spend equal to the usage records after 10,000 requests with aborts and errors", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "chaos", kind: "test", spend_limit: { amount_usd: "1000", period: "month" }, rate_limits: { tokens_per_minute: 100_000_000 } })).body;
    const faults = ["", "", "", "sim-fault:500", "sim-fault:429", "sim-fault:529", "sim-fault:die"];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const total = 10_000;
    let cutBeforeAnswer = 0; // aborted before the response began: it may never have reached the gateway
    for (let start = 0; start < total; start += 100) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        const fault = faults[Math.floor(rand() * faults.length)]!;
        const ac = new AbortController();
        const abortAfter = rand() < 0.2 ? Math.floor(rand() * 3) : -1;
        if (abortAfter >= 0) setTimeout(() => ac.abort(), abortAfter);
        let answered = false;
        try {
          const r = await post("/v1/messages", { "x-api-key": k.key, "anthropic-version": "2023-06-01" },
            { model: "claude-haiku-4-5", max_tokens: 200, stream: rand() < 0.5, messages: [{ role: "user", content: `hello ${fault} sim-tokens:30` }] }, ac.signal);
          answered = true;
          await r.arrayBuffer();
        } catch {
          // aborted by the client, or a stream the upstream cut: both must still settle
          if (!answered) cutBeforeAnswer++;
        }
      }));
    }
    let snap = await t.app.limits.budgets.snapshot(`key:${k.id}`, "month");
    for (let i = 0; i < 100 && snap?.openNano !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      snap = await t.app.limits.budgets.snapshot(`key:${k.id}`, "month");
    }
    // Every settle has handed its record to the recorder; wait until the written records add up to
    // the spend, then check them (a request cut before it reached the gateway leaves no record).
    const cost = (rows: { cost_nano: number }[]) => rows.reduce((s, r) => s + Number(r.cost_nano), 0);
    const rows = await readUntil(() => eventsOf(k.id), (r) => r.length >= total - cutBeforeAnswer && cost(r) === snap!.spentNano);
    // Every request that was answered has exactly one record; ids are request ids, so none twice.
    expect(rows.length).toBeGreaterThanOrEqual(total - cutBeforeAnswer);
    expect(rows.length).toBeLessThanOrEqual(total);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(snap!.openNano).toBe(0);
    expect(cost(rows)).toBe(snap!.spentNano);
    expect(rows.filter((r) => r.aborted === 1).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status >= 500).length).toBeGreaterThan(0);
  }, 420_000); // bounded by the work: 10,000 requests, a few minutes on a loaded two-core machine
});
