/**
 * A request's usage reaches the journal before the last byte of its answer leaves: a client that
 * saw an answer end can count on its record after any crash of the process. Checked in process by
 * watching the order of the journal's writes and the responses' ends, for answers of every kind
 * (served, streamed, refused, an upstream error, a stream cut), since a SIGKILL landing in the
 * window between the two is too rare to catch by killing.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, ServerResponse, type Server } from "node:http";
import { Socket, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { UsageJournal } from "../src/gateway/journal.js";
import { LimitsAdmission, type AdmissionRequest, type AdmissionSettlement } from "../src/gateway/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import type { UsageEvent } from "../src/store/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

/** Answers of every kind: served, streamed, refused, an upstream error, a stream cut, translated. */
const cases: [string, string, Record<string, unknown>][] = [
  ["json", "/v1/messages", { model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi sim-tokens:5" }] }],
  ["stream", "/v1/messages", { model: "claude-haiku-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi sim-tokens:5" }] }],
  ["refused", "/v1/messages", { model: "no-such-model", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }],
  ["upstream-400", "/v1/messages", { model: "claude-haiku-4-5", max_tokens: -1, messages: [{ role: "user", content: "hi" }] }],
  ["stream-cut", "/v1/messages", { model: "claude-haiku-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi sim-tokens:40 sim-fault:die" }] }],
  ["translated", "/v1/chat/completions", { model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi sim-tokens:5" }] }],
  ["translated-stream", "/v1/chat/completions", { model: "claude-haiku-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi sim-tokens:5" }] }],
];

describe("the usage journal is written before an answer ends", () => {
  let t: TestApp;
  let sim: SimulatorServer;
  let key: string;
  let simCredential: string;
  const steps: string[] = [];

  beforeAll(async () => {
    sim = await createSimulatorServer();
    t = await startSqliteApp();
    const settle = UsageJournal.prototype.settle;
    vi.spyOn(UsageJournal.prototype, "settle").mockImplementation(function (this: UsageJournal, e: UsageEvent, entry?: number) {
      steps.push(`journal ${e.id}`);
      settle.call(this, e, entry);
    });
    // What reaches the file, and when the counters are settled.
    const proto = UsageJournal.prototype as unknown as { append(line: string): void };
    const append = proto.append;
    vi.spyOn(proto, "append").mockImplementation(function (this: UsageJournal, line: string) {
      for (const m of line.matchAll(/\["e","([^"]+)"/g)) steps.push(`written ${m[1]}`);
      append.call(this, line);
    });
    const settleLimits = LimitsAdmission.prototype.settle;
    vi.spyOn(LimitsAdmission.prototype, "settle").mockImplementation(function (this: LimitsAdmission, r: AdmissionRequest, raw: unknown, s: AdmissionSettlement) {
      steps.push(`settled ${r.requestId}`);
      return settleLimits.call(this, r, raw, s);
    });
    // When an answer's bytes reach the kernel: a corked socket hands nothing on until uncorked.
    const probes = new WeakMap<Socket, string>();
    const writeHead = ServerResponse.prototype.writeHead;
    vi.spyOn(ServerResponse.prototype, "writeHead").mockImplementation(function (this: ServerResponse, ...args: unknown[]) {
      const probe = this.req?.headers["x-probe"];
      if (typeof probe === "string" && this.socket) probes.set(this.socket, probe);
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    });
    const sock = Socket.prototype as unknown as Record<"_write" | "_writev", (...a: unknown[]) => unknown>;
    for (const name of ["_write", "_writev"] as const) {
      const original = sock[name];
      vi.spyOn(sock, name).mockImplementation(function (this: Socket, ...args: unknown[]) {
        const probe = probes.get(this);
        const bytes = name === "_write" ? (args[0] as Buffer | string).length : (args[0] as { chunk: Buffer | string }[]).reduce((n, c) => n + c.chunk.length, 0);
        if (probe && bytes > 0) steps.push(`sent ${probe}`);
        return original.apply(this, args);
      });
    }
    const end = ServerResponse.prototype.end;
    vi.spyOn(ServerResponse.prototype, "end").mockImplementation(function (this: ServerResponse, ...args: unknown[]) {
      const probe = this.req?.headers["x-probe"];
      if (typeof probe === "string") steps.push(`end ${probe}`);
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    });
    simCredential = (await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-order", base_url: sim.url })).body.id;
    await t.api("POST", "/api/v1/credentials", { provider: "openai", name: "sim-openai", secret: "sk-order", base_url: sim.url });
    key = (await t.api("POST", "/api/v1/keys", { name: "order", kind: "live" })).body.key;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t?.close();
    await sim?.close();
  });


  /** Ended is not yet sent: the answer's last bytes reach its socket only after the event line is in the file. */
  const lastBytesAfterLine = (probe: string, id: string) => {
    const written = steps.indexOf(`written ${id}`);
    const lastSent = steps.lastIndexOf(`sent ${probe}`);
    expect(written, "the event was written").toBeGreaterThanOrEqual(0);
    expect(lastSent, "the answer's bytes were sent").toBeGreaterThanOrEqual(0);
    expect(written, `written before the last bytes were sent: ${steps.join(", ")}`).toBeLessThan(lastSent);
  };

  it("an answer with a content-length, complete for its client with its last body byte", async () => {
    // The simulator answers chunked (its last bytes are the terminator, written at the end); this
    // upstream sends a content-length, as most do, so the body itself is what must wait.
    const body = JSON.stringify({ id: "msg_length", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [{ type: "text", text: "Sized." }],
      stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 3, output_tokens: 2 } });
    const sized: Server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end(body));
    });
    await new Promise<void>((ok) => sized.listen(0, "127.0.0.1", ok));
    const made = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sized", secret: "sk-ant-sized", base_url: `http://127.0.0.1:${(sized.address() as AddressInfo).port}`, priority: 0 });
    await t.api("PATCH", `/api/v1/credentials/${simCredential}`, { priority: 5 });
    try {
      const res = await fetch(`${t.url}/v1/messages`, {
        method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json", "x-probe": "sized" },
        body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(await res.text()).toBe(body);
      expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
      lastBytesAfterLine("sized", res.headers.get("request-id")!);
    } finally {
      await t.api("DELETE", `/api/v1/credentials/${made.body.id}`);
      await t.api("PATCH", `/api/v1/credentials/${simCredential}`, { priority: 0 });
      sized.close();
    }
  });

  it.each(cases)("%s", async (probe, path, body) => {
    const anthropic = path === "/v1/messages";
    const res = await fetch(`${t.url}${path}`, {
      method: "POST",
      headers: { ...(anthropic ? { "x-api-key": key, "anthropic-version": "2023-06-01" } : { authorization: `Bearer ${key}` }), "content-type": "application/json", "x-probe": probe },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer().catch(() => null);
    const id = res.headers.get(anthropic ? "request-id" : "x-request-id");
    expect(id, "the answer names its request").toMatch(/^req_/);
    const journaled = steps.indexOf(`journal ${id}`);
    const ended = steps.indexOf(`end ${probe}`);
    expect(journaled, "the usage was journaled").toBeGreaterThanOrEqual(0);
    expect(ended, "the answer was ended").toBeGreaterThanOrEqual(0);
    expect(journaled, `journal before end: ${steps.join(", ")}`).toBeLessThan(ended);
    lastBytesAfterLine(probe, id!);
    // The counters take its cost only once the event is on disk: a kill in between would leave the
    // journal charging the request's whole bound on recovery, more than the counters held for it.
    if (probe === "refused") return; // never admitted: nothing to settle
    const settled = steps.indexOf(`settled ${id}`);
    const written = steps.indexOf(`written ${id}`);
    expect(settled, "the counters were settled").toBeGreaterThanOrEqual(0);
    expect(written, "the event was written").toBeGreaterThanOrEqual(0);
    expect(written, `written before settled: ${steps.join(", ")}`).toBeLessThan(settled);
  });
});

describe("a clean stop leaves no usage journal behind", () => {
  it("once every request of every kind has closed its reservation and its usage is written", async () => {
    const sim = await createSimulatorServer();
    const t = await startSqliteApp();
    try {
      const file = join(t.app.config.dataDir, "usage-journal.jsonl");
      await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-stop", base_url: sim.url });
      await t.api("POST", "/api/v1/credentials", { provider: "openai", name: "sim-openai", secret: "sk-stop", base_url: sim.url });
      const key = (await t.api("POST", "/api/v1/keys", { name: "stop", kind: "live" })).body.key as string;
      for (const [, path, body] of cases) {
        const res = await fetch(`${t.url}${path}`, {
          method: "POST",
          headers: { ...(path === "/v1/messages" ? { "x-api-key": key, "anthropic-version": "2023-06-01" } : { authorization: `Bearer ${key}` }), "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer().catch(() => null);
      }
      expect(existsSync(file), "the journal is written while the gateway runs").toBe(true);
      expect(readFileSync(file, "utf8").match(/^\["r"/gm)?.length, "every admitted request journaled its reservation").toBe(cases.length - 1);
      await t.app.close();
      // A reservation its request did not close would keep the file, for recovery to charge at the next start.
      expect(existsSync(file), "the journal is gone after a clean stop").toBe(false);
    } finally {
      await t.close().catch(() => undefined);
      await sim.close();
    }
  });
});
