/**
 * OpenTelemetry: spans for gateway requests sent over OTLP/HTTP to a receiver started here,
 * configured by the standard OTEL_EXPORTER_OTLP_ENDPOINT, carrying the GenAI semantic conventions'
 * attributes and continuing the caller's trace (W3C traceparent). Off unless configured.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
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

  beforeAll(async () => {
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
  });
  afterAll(async () => {
    await t?.close();
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
