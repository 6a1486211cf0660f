/**
 * The outbound address policy: what Latchkey connects to on a user's say-so (credential base URLs,
 * webhooks, the credential test). Loopback, private, link-local, metadata and reserved ranges are
 * refused in every spelling, after DNS, at connect time too, and a name that changes its answer
 * (DNS rebinding) cannot slip a loopback connection past the check. Probe and delivery errors read
 * alike whatever the network did.
 */
import { generateKeyPairSync } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundPolicy } from "../src/lib/outbound.js";
import { newId } from "../src/lib/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { eventually } from "./support/gateway-harness.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

const REFUSED = [
  "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "100.64.0.1", "100.100.100.200", "169.254.169.254", "172.16.0.1",
  "172.31.255.255", "192.168.1.1", "192.0.2.1", "198.18.0.1", "224.0.0.1", "255.255.255.255",
  "::1", "::", "[::1]", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254", "ff02::1",
  "::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:ffff:a00:1", "[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe",
  "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
];
const ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"];

/** A loopback port that counts the connections it gets (each closed at once): what must never be reached. */
async function countingListener(): Promise<{ server: TcpServer; port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

describe("outbound address policy", () => {
  it("refuses every loopback, private, link-local, metadata and reserved address, IPv4 and IPv6, mapped forms too", () => {
    const p = new OutboundPolicy();
    expect(REFUSED.filter((a) => p.allows(a))).toEqual([]);
    expect(ALLOWED.filter((a) => !p.allows(a))).toEqual([]);
    expect(p.allows("not-an-address")).toBe(false);
  });

  it("allows exactly the ranges the operator lists, in either family", () => {
    const p = new OutboundPolicy(["127.0.0.0/8", "fd00::/8", "10.1.2.3"]);
    for (const a of ["127.0.0.1", "::ffff:127.0.0.1", "fd00:ec2::254", "10.1.2.3"]) expect(p.allows(a), a).toBe(true);
    for (const a of ["10.1.2.4", "169.254.169.254", "::1", "192.168.0.1"]) expect(p.allows(a), a).toBe(false);
  });

  it("refuses URLs by address after the URL parser's normalisation: decimal, hex, octal, short and bracketed spellings, and names that resolve inward", async () => {
    const p = new OutboundPolicy();
    for (const url of ["http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://127.1:8080/x", "http://[::ffff:127.0.0.1]/",
      "http://[::1]:11434/v1", "http://169.254.169.254/latest/meta-data/", "https://10.0.0.5/v1", "http://localhost:8420/"]) {
      expect(await p.refusesUrl(url), url).toBe(true);
    }
    expect(await p.refusesUrl("https://93.184.216.34/v1")).toBe(false);
  });

  it("holds a connection to the address it checked: a name answering public then loopback (DNS rebinding) never reaches loopback", async () => {
    const { server: target, port, connections } = await countingListener();
    let asked = 0;
    const answers: LookupAddress[][] = [[{ address: "93.184.216.34", family: 4 }], [{ address: "127.0.0.1", family: 4 }], [{ address: "93.184.216.34", family: 4 }, { address: "127.0.0.1", family: 4 }]];
    const resolve = ((_host: string, _o: unknown, cb: (e: Error | null, a: LookupAddress[]) => void) => {
      const a = answers[Math.min(asked++, answers.length - 1)]!;
      process.nextTick(cb, null, a);
    }) as unknown as typeof import("node:dns").lookup;
    const p = new OutboundPolicy([], { resolve });
    const agent = p.agent({ timeout: 5000 });
    try {
      // The check when the URL was given saw a public address...
      expect(await p.refusesUrl(`http://rebind.example:${port}/`)).toBe(false);
      // ...the connection resolves again, gets loopback, and is refused before any connection is made.
      await expect(request(`http://rebind.example:${port}/`, { dispatcher: agent })).rejects.toMatchObject({ code: "LATCHKEY_ADDRESS_REFUSED" });
      // A name answering with a public and a private address at once is refused as well.
      await expect(request(`http://rebind.example:${port}/`, { dispatcher: agent })).rejects.toMatchObject({ code: "LATCHKEY_ADDRESS_REFUSED" });
      // An address literal is refused without a lookup.
      await expect(request(`http://127.0.0.1:${port}/`, { dispatcher: agent })).rejects.toMatchObject({ code: "LATCHKEY_ADDRESS_REFUSED" });
      expect(connections()).toBe(0);
      // The same agent under a policy that allows loopback does connect: the refusals above were the policy's.
      const open = new OutboundPolicy(["127.0.0.1"]).agent({ timeout: 5000 });
      await request(`http://127.0.0.1:${port}/`, { dispatcher: open }).catch(() => undefined);
      await open.close();
      expect(connections()).toBe(1);
    } finally {
      await agent.close();
      await new Promise<void>((ok) => target.close(() => ok()));
    }
  });
});

describe("the server under the default policy", () => {
  let t: TestApp;
  let sim: SimulatorServer;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal", allowPrivateUpstreams: "" });
    sim = await createSimulatorServer();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it("refuses credential base URLs and webhook URLs that point inward, naming the setting and not the address", async () => {
    for (const base of [sim.url, "http://169.254.169.254/", "http://[::1]:11434/v1", "http://2130706433:8080", "http://localhost:11434/v1"]) {
      const r = await t.api("POST", "/api/v1/credentials", { provider: "openai-compatible", name: "local", secret: "sk-local-000000", base_url: base, models: ["llama-*"] });
      expect(r.status, base).toBe(400);
      expect(r.body.error.fields[0]).toMatchObject({ field: "base_url", message: expect.stringMatching(/LATCHKEY_ALLOW_PRIVATE_UPSTREAMS/) });
      expect(r.body.error.request_id).toMatch(/^req_/);
    }
    const ok = await t.api("POST", "/api/v1/credentials", { provider: "openai-compatible", name: "public", secret: "sk-public-000000", base_url: "https://93.184.216.34/v1", models: ["llama-*"] });
    expect(ok.status).toBe(201);
    const moved = await t.api("PATCH", `/api/v1/credentials/${ok.body.id}`, { base_url: "http://169.254.169.254/v1" });
    expect(moved.status).toBe(400);
    expect(moved.body.error.fields[0].field).toBe("base_url");
    for (const url of ["http://10.0.0.1/hook", "http://[fd00:ec2::254]/", "http://127.0.0.1:9/hook"]) {
      const r = await t.api("POST", "/api/v1/webhooks", { url, events: ["*"] });
      expect(r.status, url).toBe(400);
      expect(r.body.error.fields[0].field).toBe("url");
    }
  });

  it("refuses token endpoints that point inward: an Entra ID authority host and a Vertex AI key's token_uri", async () => {
    const azure = await t.api("POST", "/api/v1/credentials", { provider: "azure-openai", name: "entra", secret: "tenant-a:client-b:secret-c", settings: { resource: "team-a", authority_host: "http://169.254.169.254/" } });
    expect(azure.status).toBe(400);
    expect(azure.body.error.fields[0]).toMatchObject({ field: "settings.authority_host", message: expect.stringMatching(/LATCHKEY_ALLOW_PRIVATE_UPSTREAMS/) });
    const sa = { type: "service_account", project_id: "p", client_email: "a@p.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n", token_uri: "http://127.0.0.1:9/token" };
    const vertex = await t.api("POST", "/api/v1/credentials", { provider: "vertex", name: "vertex", secret: JSON.stringify(sa), settings: { region: "us-east5" } });
    expect(vertex.status).toBe(400);
    expect(vertex.body.error.fields[0].field).toBe("secret");
    expect(JSON.stringify(vertex.body)).not.toContain("BEGIN PRIVATE KEY");
    const ok = await t.api("POST", "/api/v1/credentials", { provider: "azure-openai", name: "entra-public", secret: "tenant-a:client-b:secret-c", settings: { resource: "team-a", authority_host: "https://93.184.216.34/" } });
    expect(ok.status).toBe(201);
    const moved = await t.api("PATCH", `/api/v1/credentials/${ok.body.id}`, { settings: { authority_host: "http://10.1.2.3/" } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.fields[0].field).toBe("settings.authority_host");
  });

  it("refuses at connect time too: a stored credential pointing at loopback never reaches it, from the gateway or the credential test", async () => {
    // Written straight to the store, as a credential saved before the policy (or under another setting) would be.
    const id = newId("cred");
    await t.app.store.credentials.insert({
      id, orgId: t.app.bootstrap!.orgId, workspaceId: null, provider: "anthropic", name: "inward", secret: "sk-ant-inward-0000000",
      baseUrl: sim.url, weight: 1, settings: {}, models: [], priority: 0, createdAt: Date.now(), createdBy: "system",
    }, t.app.services.masterKey);
    t.app.services.credentialVault?.invalidate();
    const live = (await t.api("POST", "/api/v1/keys", { name: "live", kind: "live" })).body.key;
    const r = await fetch(`${t.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": live, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    const text = await r.text();
    expect(r.status).toBe(502);
    expect(text).toMatch(/could not be reached/);
    expect(text).not.toMatch(/127\.0\.0\.1|LATCHKEY_ADDRESS/);
    const tested = await t.api("POST", `/api/v1/credentials/${id}/test`);
    expect(tested.body).toMatchObject({ ok: false, status: null, latency_ms: null });
    expect(sim.stats.byKey.get("sk-ant-inward-0000000") ?? 0).toBe(0);
  });

  it("refuses token endpoints at connect time too: a stored Vertex AI key's token_uri and an Entra ID authority host on loopback are never reached", async () => {
    const { server: inward, port, connections } = await countingListener();
    const at = `http://127.0.0.1:${port}`;
    // A real key, so that a token request would be signed and sent if the address were not refused.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const sa = { type: "service_account", project_id: "p", client_email: "a@p.iam.gserviceaccount.com", private_key: privateKey.export({ type: "pkcs8", format: "pem" }), token_uri: `${at}/token` };
    const stored: string[] = [];
    // Written straight to the store, as credentials saved before the policy (or under another setting) would be.
    for (const [provider, secret, settings] of [
      ["vertex", JSON.stringify(sa), { region: "us-east5", project: "p" }],
      ["azure-openai", JSON.stringify({ tenant_id: "tenant-a", client_id: "client-b", client_secret: "secret-c" }), { resource: "team-a", authority_host: `${at}/` }],
    ] as const) {
      const id = newId("cred");
      await t.app.store.credentials.insert({
        id, orgId: t.app.bootstrap!.orgId, workspaceId: null, provider, name: `inward ${provider}`, secret,
        baseUrl: null, weight: 1, settings, models: [], priority: 0, createdAt: Date.now(), createdBy: "system",
      }, t.app.services.masterKey);
      stored.push(id);
    }
    t.app.services.credentialVault?.invalidate();
    try {
      for (const id of stored) {
        const tested = await t.api("POST", `/api/v1/credentials/${id}/test`);
        expect(tested.body, id).toMatchObject({ ok: false });
      }
      const live = (await t.api("POST", "/api/v1/keys", { name: "token", kind: "live" })).body.key;
      for (const [path, model] of [["/v1/chat/completions", "gpt-4o-mini"], ["/v1/messages", "claude-sonnet-4-6"]] as const) {
        const r = await fetch(`${t.url}${path}`, {
          method: "POST", headers: { authorization: `Bearer ${live}`, "x-api-key": live, "anthropic-version": "2023-06-01", "content-type": "application/json" },
          body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
        });
        await r.arrayBuffer();
        expect(r.status, path).toBeGreaterThanOrEqual(400);
      }
      expect(connections()).toBe(0);
    } finally {
      for (const id of stored) await t.api("DELETE", `/api/v1/credentials/${id}`);
      await new Promise<void>((ok) => inward.close(() => ok()));
    }
  });
});

describe("probe and delivery errors", () => {
  let t: TestApp;
  const servers: (Server | TcpServer)[] = [];
  const listen = async (s: Server | TcpServer) => {
    servers.push(s);
    await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal", allowPrivateUpstreams: "127.0.0.1" });
  });
  afterAll(async () => {
    await t?.close();
    for (const s of servers) s.close();
  });

  const store = async (baseUrl: string) => {
    const id = newId("cred");
    await t.app.store.credentials.insert({
      id, orgId: t.app.bootstrap!.orgId, workspaceId: null, provider: "openai", name: `probe ${id}`, secret: "sk-probe-0000000000",
      baseUrl, weight: 1, settings: {}, models: [], priority: 0, createdAt: Date.now(), createdBy: "system",
    }, t.app.services.masterKey);
    return id;
  };

  it("reads alike for a refused address, a closed port, a dropped connection and a service that is not the provider, and echoes no upstream body", async () => {
    const closed = await listen(createTcpServer());
    const closedUrl = closed;
    await new Promise<void>((ok) => (servers.pop() as TcpServer).close(() => ok()));
    const dropper = await listen(createTcpServer((s) => s.destroy()));
    const internal = await listen(createHttpServer((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end("INTERNAL-ADMIN-PANEL v1.2 at 10.9.8.7")));
    const answers = [];
    for (const base of ["http://169.254.169.254", "http://127.0.0.2:80", closedUrl, dropper, internal]) {
      const r = await t.api("POST", `/api/v1/credentials/${await store(`${base}/v1`)}/test`);
      expect(r.status, base).toBe(200);
      answers.push(r.body);
    }
    for (const a of answers) expect(a).toMatchObject({ ok: false, status: null, latency_ms: null, message: answers[0].message });
    const text = JSON.stringify(answers);
    expect(text).not.toMatch(/INTERNAL-ADMIN|10\.9\.8\.7|ECONN|refused|404|socket|timeout/i);
  });

  it("logs a failed webhook delivery as one generic error, whatever the network did", async () => {
    const closed = await listen(createTcpServer());
    await new Promise<void>((ok) => (servers.pop() as TcpServer).close(() => ok()));
    const hook = await t.api("POST", "/api/v1/webhooks", { url: `${closed}/hook`, events: ["*"] });
    expect(hook.status).toBe(201);
    await t.api("POST", "/api/v1/keys", { name: "leaky", kind: "test" }).then((k) => t.api("POST", `/api/v1/keys/${k.body.id}/report-leak`, {}));
    const delivery = await eventually(async () => {
      const d = (await t.api("GET", `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.data as { last_error: string | null }[];
      return d.find((x) => x.last_error !== null);
    }, 20_000);
    expect(delivery.last_error).toBe("could not deliver to the receiver");
  });
});
