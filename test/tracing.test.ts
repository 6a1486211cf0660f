/**
 * OpenTelemetry: spans for gateway requests sent over OTLP/HTTP to a receiver started here,
 * configured by the standard OTEL_EXPORTER_OTLP_ENDPOINT, carrying the GenAI semantic conventions'
 * attributes and continuing the caller's trace (W3C traceparent). Off unless configured.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { tracingEnabled } from "../src/telemetry/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: { key: string; value: OtlpValue }[]; status?: { code?: number } }

function attrs(span: OtlpSpan): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const a of span.attributes) {
    const v = a.value;
    out[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? "";
  }
  return out;
}

describe("OpenTelemetry traces over OTLP/HTTP", () => {
  let receiver: Server;
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const contentTypes: string[] = [];
  let t: TestApp;
  let sim: SimulatorServer;
  const upstreamTraceparents: (string | undefined)[] = [];
  const upstreamTracestates: (string | undefined)[] = [];
  let liveKey = "";

  beforeAll(async () => {
    // A real upstream for a live key: the simulator over HTTP, noting the traceparent each request carried.
    sim = await createSimulatorServer();
    sim.server.prependListener("request", (req) => {
      upstreamTraceparents.push(req.headers.traceparent as string | undefined);
      upstreamTracestates.push(req.headers.tracestate as string | undefined);
    });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        paths.push(req.url ?? "");
        contentTypes.push(String(req.headers["content-type"]));
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    // Through the loader, as an operator would set it: the standard variable, not a Latchkey one.
    const fromEnv = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "gateway-under-test" } });
    t = await startSqliteApp({ otelExporterOtlpEndpoint: fromEnv.otelExporterOtlpEndpoint, otelServiceName: fromEnv.otelServiceName });
    const cred = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-TRACING-UPSTREAM-0001", base_url: sim.url });
    expect(cred.status).toBe(201);
    const key = await t.api("POST", "/api/v1/keys", { name: "traced", kind: "live" });
    expect(key.status).toBe(201);
    liveKey = key.body.key as string;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
    await new Promise((ok) => receiver?.close(ok));
  });

  const waitForSpan = async (requestId: string) => {
    for (let i = 0; i < 100; i++) {
      const s = spans.find((x) => attrs(x)["latchkey.request_id"] === requestId);
      if (s) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no span for ${requestId}`);
  };

  it("exports a span with the GenAI attributes that continues the caller's trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parent = "00f067aa0ba902b7";
    const started = Date.now();
    const r = await fetch(`${t.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": t.testKey, "anthropic-version": "2023-06-01", "content-type": "application/json", traceparent: `00-${traceId}-${parent}-01` },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "sim-tokens:9" }] }),
    });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const span = await waitForSpan(r.headers.get("request-id")!);
    expect(paths).toContain("/v1/traces");
    expect(contentTypes[0]).toContain("application/json");
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe(parent);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.name).toBe("chat claude-haiku-4-5");
    expect(attrs(span)).toMatchObject({
      "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-haiku-4-5", "gen_ai.provider.name": "simulator",
      "gen_ai.usage.output_tokens": 9, "http.response.status_code": 200, "latchkey.attempts": 1,
    });
    expect(attrs(span)["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
    const start = Number(BigInt(span.startTimeUnixNano) / 1_000_000n);
    expect(start).toBeGreaterThanOrEqual(started - 5);
    expect(Number(BigInt(span.endTimeUnixNano) / 1_000_000n)).toBeGreaterThanOrEqual(start);
  });

  it("starts a new trace without a traceparent, and marks a refused request as an error", async () => {
    const r = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${t.testKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(404);
    const span = await waitForSpan(r.headers.get("x-request-id")!);
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.parentSpanId ?? "").toBe("");
    expect(span.status?.code).toBe(2);
    expect(attrs(span)).toMatchObject({ "error.type": "model_not_found", "http.response.status_code": 404 });
  });

  const sendLive = (headers: Record<string, string>) => fetch(`${t.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": liveKey, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "sim-tokens:4" }] }),
  });

  it("passes the trace on to the provider, with the gateway's span as the parent of the upstream call", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const before = upstreamTraceparents.length;
    const r = await sendLive({ traceparent: `00-${traceId}-b7ad6b7169203331-01`, tracestate: "vendor=opaque" });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const span = await waitForSpan(r.headers.get("request-id")!);
    expect(upstreamTraceparents.length).toBe(before + 1);
    const sent = upstreamTraceparents[before];
    expect(sent).toBe(`00-${traceId}-${span.spanId}-01`);
    expect(upstreamTracestates[before]).toBe("vendor=opaque");
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe("b7ad6b7169203331");
  });

  it("starts a trace for a caller that sent none, and the provider sees it", async () => {
    const before = upstreamTraceparents.length;
    const r = await sendLive({});
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const span = await waitForSpan(r.headers.get("request-id")!);
    expect(upstreamTraceparents[before]).toBe(`00-${span.traceId}-${span.spanId}-01`);
    expect(span.traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
  });

  it("does not continue a malformed traceparent, and still sends a well-formed one upstream", async () => {
    const before = upstreamTraceparents.length;
    const r = await sendLive({ traceparent: `00-${"0".repeat(32)}-b7ad6b7169203331-01` });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const span = await waitForSpan(r.headers.get("request-id")!);
    expect(span.traceId).not.toBe("0".repeat(32));
    expect(span.parentSpanId ?? "").toBe("");
    expect(upstreamTraceparents[before]).toBe(`00-${span.traceId}-${span.spanId}-01`);
  });

  it("traces a pass-through request as it does a generation: the caller's trace continued, the gateway's span the upstream call's parent", async () => {
    const traceId = "5c1d7f0a9e3b4c2d8f6a1b0c9d8e7f6a";
    const before = upstreamTraceparents.length;
    const r = await fetch(`${t.url}/v1/messages/batches`, {
      method: "POST",
      headers: { "x-api-key": liveKey, "anthropic-version": "2023-06-01", "content-type": "application/json", traceparent: `00-${traceId}-a1b2c3d4e5f60718-01`, tracestate: "vendor=batch" },
      body: JSON.stringify({ requests: [
        { custom_id: "a", params: { model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "sim-tokens:3" }] } },
        { custom_id: "b", params: { model: "claude-sonnet-4-6", max_tokens: 20, messages: [{ role: "user", content: "sim-tokens:5" }] } },
      ] }),
    });
    expect(r.status).toBe(200);
    const batch = await r.json() as { id: string };
    const span = await waitForSpan(r.headers.get("request-id")!);
    expect(upstreamTraceparents.length).toBe(before + 1);
    expect(upstreamTraceparents[before]).toBe(`00-${traceId}-${span.spanId}-01`);
    expect(upstreamTracestates[before]).toBe("vendor=batch");
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe("a1b2c3d4e5f60718");
    expect(span.name).toBe("passthrough none");
    expect(attrs(span)).toMatchObject({ "gen_ai.provider.name": "anthropic", "http.response.status_code": 200, "latchkey.upstream_status": 200 });

    // The results, billed once per model: the first model's span is the upstream call's parent, the second is under it, in a trace of its own (none was sent).
    const read = await fetch(`${t.url}/v1/messages/batches/${batch.id}/results`, { headers: { "x-api-key": liveKey, "anthropic-version": "2023-06-01" } });
    expect(read.status).toBe(200);
    await read.arrayBuffer();
    const id = read.headers.get("request-id")!;
    const first = await waitForSpan(id);
    const second = await waitForSpan(`${id}_2`);
    expect(upstreamTraceparents[before + 1]).toBe(`00-${first.traceId}-${first.spanId}-01`);
    expect(first.traceId).not.toBe(traceId);
    expect(first.parentSpanId ?? "").toBe("");
    expect(second.traceId).toBe(first.traceId);
    expect(second.parentSpanId).toBe(first.spanId);
    expect(second.spanId).not.toBe(first.spanId);
    expect([first.name, second.name].sort()).toEqual(["batch_results claude-haiku-4-5", "batch_results claude-sonnet-4-6"]);
  });

  it("never puts a key in a span", () => {
    const text = JSON.stringify(spans);
    expect(text).not.toContain(t.testKey);
    expect(text).not.toContain(t.adminKey);
  });
});

describe("tracing switch", () => {
  it("is off without an endpoint, and off with OTEL_TRACES_EXPORTER=none", () => {
    const off = loadConfig({ env: {} });
    expect(tracingEnabled({ endpoint: off.otelExporterOtlpEndpoint, serviceName: off.otelServiceName })).toBe(false);
    const none = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" } });
    expect(tracingEnabled({ endpoint: none.otelExporterOtlpEndpoint, exporter: none.otelTracesExporter, serviceName: "x" })).toBe(false);
    const on = loadConfig({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" } });
    expect(tracingEnabled({ tracesEndpoint: on.otelExporterOtlpTracesEndpoint, serviceName: "x" })).toBe(true);
    for (const [v, enabled] of [["true", false], ["false", true], ["0", true], ["off", true], ["yes", false]] as const) {
      const c = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: v } });
      expect(tracingEnabled({ endpoint: c.otelExporterOtlpEndpoint, disabled: c.otelSdkDisabled, serviceName: "x" }), `OTEL_SDK_DISABLED=${v}`).toBe(enabled);
    }
  });
});
