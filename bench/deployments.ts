/**
 * What deployments and the clouds add to a request, timed in process (steady figures on a shared
 * machine):
 * - choosing the deployments of a model with one credential, and with a second one to fail over to
 *   (a fallback that is not needed costs only its place in the list);
 * - turning them into addressed candidates for an Anthropic Messages request: one deployment, with a
 *   fallback of another dialect (an OpenAI-compatible host; not translated unless its turn comes), and
 *   with that fallback made ready (the translation a failover costs);
 * - SigV4 signing of a Bedrock request by the AWS SDK's signer (target: under 30 µs);
 * - the event-stream decoding of a Bedrock stream (a 12-token answer) into server-sent events;
 * - reading a cloud credential's auth (the token is minted off the request path: a field read).
 *   node dist/bench/deployments.js [--n 20000]
 * Each step shows wall time and the process's CPU time per call: on a loaded machine the second is the steadier.
 */
import { EventStreamCodec } from "@smithy/core/event-streams";
import { AzureAuth } from "../src/providers/azure-openai/index.js";
import { BedrockSigner, EventStreamToSse } from "../src/providers/bedrock/index.js";
import { prepare, upstreams } from "../src/gateway/deployments.js";
import { RequestForms } from "../src/gateway/forms.js";
import type { Candidate } from "../src/gateway/plan.js";
import { CredentialLinks, DeploymentHealth, deploymentsFor, type UsableCredential } from "../src/providers/index.js";
import type { CatalogModel } from "../src/store/index.js";
import { median, printTable } from "./table.js";

const N = Number(process.argv.includes("--n") ? process.argv[process.argv.indexOf("--n") + 1] : 20_000);
const model: CatalogModel = {
  id: "claude-haiku-4-5", provider: "anthropic", displayName: "Claude Haiku 4.5", kind: "chat", aliases: ["claude-haiku-4-5-20251001"],
  maxOutputTokens: 64_000, contextWindow: 200_000, createdAt: 0, updatedAt: 0, prices: [],
} as unknown as CatalogModel;
const cred = (id: string, provider: string, priority: number, models: UsableCredential["models"] = []): UsableCredential => ({
  id, orgId: "org", workspaceId: null, provider, name: id, baseUrl: null, weight: 1, hint: "…", settings: { region: "us-east-1" }, models, priority,
  createdAt: 0, createdBy: null, secret: "x".repeat(40),
} as UsableCredential);
const one = [cred("cred_a", "anthropic", 0)];
const two = [...one, cred("cred_b", "bedrock", 1, [{ match: "claude-haiku-4-5", upstream: "anthropic.claude-haiku-4-5-20251001-v1:0" }])];
const otherDialect = [...one, { ...cred("cred_c", "openai-compatible", 1, [{ match: "claude-haiku-4-5", upstream: "anthropic/claude-haiku-4.5" }]), settings: { preset: "openrouter" } } as UsableCredential];

/** What choosing candidates reads of the gateway: cached credentials, links, health, pools (none is dialled). */
function coreWith(creds: UsableCredential[]): Parameters<typeof upstreams>[0] {
  return {
    vault: { peek: () => creds }, links: new CredentialLinks(), health: new DeploymentHealth(), pool: () => ({ dispatch: () => true }),
    logger: { warn: () => undefined }, simulatorUrl: () => "http://127.0.0.1:1",
  } as unknown as Parameters<typeof upstreams>[0];
}
const entry = { key: { orgId: "org", workspaceId: "wrk" } } as Parameters<typeof upstreams>[1];
const messagesBody = { model: "claude-haiku-4-5", max_tokens: 256, messages: [{ role: "user", content: "x".repeat(1000) }] };
const messagesRaw = Buffer.from(JSON.stringify(messagesBody));
function forms(): RequestForms {
  return new RequestForms({
    request: { op: "messages", dialect: "anthropic", model: "claude-haiku-4-5", inboundPath: "/v1/messages", sse: false, body: messagesBody },
    payload: messagesRaw, translation: null, strip: false, notice: null,
  }, messagesBody, { keep: null as never, orgId: "org", model, modelName: "claude-haiku-4-5", streamed: false });
}
function candidates(core: Parameters<typeof upstreams>[0], f: RequestForms): Candidate[] {
  const c = upstreams(core, entry, model, false, f);
  if (!Array.isArray(c)) throw new Error("bench: no candidates");
  return c;
}

/** Median µs per call over 5 rounds: wall time, and CPU time of this process (steadier on a shared machine). */
async function time(fn: () => unknown | Promise<unknown>, n = N): Promise<[number, number]> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const x = fn();
      if (x instanceof Promise) await x;
    }
    wall.push(((performance.now() - t0) * 1000) / n);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / n);
  }
  return [median(wall), median(cpu)];
}
const row = (step: string, [wall, cpu]: [number, number], digits = 2): (string | number)[] => [step, wall.toFixed(digits), cpu.toFixed(digits)];

const signer = new BedrockSigner({ accessKeyId: "AKIABENCH000000000000", secretAccessKey: "bench/secret/0000000000000000000000000000" }, "us-east-1");
const body = Buffer.from(JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 64, messages: [{ role: "user", content: "x".repeat(1000) }] }));
const codec = new EventStreamCodec((b) => Buffer.from(b).toString("utf8"), (s) => Buffer.from(s, "utf8"));
const events = [{ type: "message_start", message: { id: "msg", usage: { input_tokens: 10, output_tokens: 1 } } },
  ...Array.from({ length: 12 }, (_, i) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: ` w${i}` } })),
  { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 12 } }, { type: "message_stop" }];
const stream = Buffer.concat(events.map((e) => Buffer.from(codec.encode({
  headers: { ":event-type": { type: "string", value: "chunk" }, ":message-type": { type: "string", value: "event" }, ":content-type": { type: "string", value: "application/json" } },
  body: Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(e)).toString("base64") })),
}))));
const azure = new AzureAuth({ id: "c", baseUrl: null, secret: "azure-key-0000000000", settings: {} });

const rows: (string | number)[][] = [];
rows.push(row("deployments of a model, one credential", await time(() => deploymentsFor(one, model, "claude-haiku-4-5", "wrk"))));
rows.push(row("deployments of a model, with a fallback on Bedrock", await time(() => deploymentsFor(two, model, "claude-haiku-4-5", "wrk"))));
const coreOne = coreWith(one);
const coreTwo = coreWith(otherDialect);
const ready = candidates(coreTwo, forms());
if (ready.length !== 2 || ready[1]!.target !== null) throw new Error("bench: the fallback was translated before its turn");
rows.push(row("candidates for a Messages request, one deployment", await time(() => candidates(coreOne, forms()))));
rows.push(row("... with a fallback of another dialect (not needed)", await time(() => candidates(coreTwo, forms()))));
rows.push(row("... and the fallback translated (a failover to it)", await time(() => {
  const f = forms();
  return prepare(coreTwo, candidates(coreTwo, f)[1]!, f);
})));
const headers: Record<string, string> = {};
const path = "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke";
rows.push(row("SigV4 signing, 1 KB body (target < 30)", await time(() => signer.sign("https://bedrock-runtime.us-east-1.amazonaws.com", path, headers, body), Math.min(N, 5000))));
rows.push(row("Bedrock stream re-framed as SSE (16 frames)", await time(() => new EventStreamToSse().push(stream), Math.min(N, 5000))));
rows.push(row("cloud auth read per request (token minted off path)", await time(() => azure.header()), 3));
printTable(`deployments and cloud steps, µs a request (median of 5 rounds of ${N})`, ["step", "µs", "µs CPU"], rows);
azure.close();
