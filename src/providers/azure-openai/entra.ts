import type { ClientSecretCredential, ClientSecretCredentialOptions } from "@azure/identity";
import { request, type Dispatcher } from "undici";
import type { CredentialInfo, CredentialLink } from "../types.js";

const SCOPE = "https://cognitiveservices.azure.com/.default";
const REFRESH_BEFORE_MS = 5 * 60_000;

/** @azure/identity, imported when the first Entra ID credential is made: a node without one never pays its memory. */
let azureIdentity: Promise<typeof import("@azure/identity")> | null = null;

/**
 * An Azure OpenAI credential: an `api-key`, or an Entra ID app registration (client-credential
 * flow, by @azure/identity) whose token is fetched before it is needed and kept fresh by a timer.
 */
export class AzureAuth implements CredentialLink {
  readonly apiKey: string | null;
  readonly apiVersion: string;
  private entra: ClientSecretCredential | null;
  private readonly app: { tenant: string; client: string; secret: string; authorityHost: string | undefined; dispatcher: Dispatcher | undefined } | null = null;
  private token: string | null = null;
  private expiresAt = 0;
  private fetching: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(c: CredentialInfo, private readonly now: () => number = Date.now) {
    this.apiVersion = c.settings.api_version ?? "2024-10-21";
    const t = c.secret.trim();
    if (!t.startsWith("{")) {
      this.apiKey = t;
      this.entra = null;
      return;
    }
    const j = JSON.parse(t) as Record<string, unknown>;
    const [tenant, client, secret] = [j.tenant_id, j.client_id, j.client_secret];
    if (typeof tenant !== "string" || typeof client !== "string" || typeof secret !== "string") {
      throw new Error("an Entra ID secret needs tenant_id, client_id and client_secret");
    }
    this.apiKey = null;
    this.app = { tenant, client, secret, authorityHost: c.settings.authority_host, dispatcher: c.dispatcher };
    this.entra = null;
    void this.fetch().catch(() => undefined);
  }

  /** The credential, made on first use and again after a refusal (`refresh`). */
  private async credential(): Promise<ClientSecretCredential> {
    if (this.entra) return this.entra;
    const { ClientSecretCredential } = await (azureIdentity ??= import("@azure/identity"));
    const { tenant, client, secret, authorityHost, dispatcher } = this.app!;
    // An authority host of the credential's own is used as given: instance discovery would ask
    // Microsoft's public cloud which hosts are valid, and fails wherever that cloud is unreachable.
    this.entra ??= new ClientSecretCredential(tenant, client, secret, {
      ...(authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {}),
      ...(dispatcher ? { httpClient: httpClientThrough(dispatcher) } : {}),
    });
    return this.entra;
  }

  /** The auth header for a request now (the Entra token as last fetched). */
  header(): [string, string] {
    return this.apiKey !== null ? ["api-key", this.apiKey] : ["authorization", `Bearer ${this.token ?? ""}`];
  }

  ready(): Promise<void> | null {
    if (this.apiKey !== null || (this.token && this.now() < this.expiresAt)) return null;
    return this.fetch();
  }

  /**
   * Azure refused the token: mint another. The library keeps its own token cache and would hand
   * back the refused token until it expires, so a fresh credential (an empty cache) asks for it.
   */
  refresh(): void {
    if (!this.app || this.fetching) return;
    this.entra = null;
    void this.fetch().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private fetch(): Promise<void> {
    this.fetching ??= this.credential().then((c) => c.getToken(SCOPE)).then((t) => {
      this.token = t.token;
      this.expiresAt = t.expiresOnTimestamp;
      this.schedule(Math.max(1000, this.expiresAt - this.now() - REFRESH_BEFORE_MS));
    }, (err: unknown) => {
      this.schedule(5000);
      throw err;
    }).finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetch().catch(() => undefined), ms);
    this.timer.unref();
  }
}

type HttpClient = NonNullable<ClientSecretCredentialOptions["httpClient"]>;
type PipelineRequest = Parameters<HttpClient["sendRequest"]>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient["sendRequest"]>>;

/**
 * The library's HTTP client, through the outbound policy's agent: the authority host is checked at
 * connect time too. Token requests carry a form body as a string; anything else is refused rather
 * than sent some other way.
 */
function httpClientThrough(dispatcher: Dispatcher): HttpClient {
  return {
    async sendRequest(req: PipelineRequest): Promise<PipelineResponse> {
      if (req.body !== undefined && req.body !== null && typeof req.body !== "string") throw new Error("an Entra ID request body that is not text");
      const timeout = req.timeout > 0 ? req.timeout : 30_000;
      const r = await request(req.url, {
        method: req.method, headers: req.headers.toJSON(), body: req.body ?? undefined, dispatcher,
        signal: req.abortSignal, headersTimeout: timeout, bodyTimeout: timeout,
      });
      return { request: req, status: r.statusCode, headers: new ResponseHeaders(r.headers), bodyAsText: await r.body.text() };
    },
  };
}

/** The response headers in the shape the library reads (its HttpHeaders: names without case). */
class ResponseHeaders implements Iterable<[string, string]> {
  private readonly map = new Map<string, string>();
  constructor(raw: Record<string, string | string[] | undefined>) {
    for (const [name, value] of Object.entries(raw)) if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(", ") : value);
  }
  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase());
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean): void {
    this.map.set(name.toLowerCase(), String(value));
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.map.entries();
  }
}
