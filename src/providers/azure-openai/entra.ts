import { ClientSecretCredential } from "@azure/identity";
import type { CredentialInfo, CredentialLink } from "../types.js";

const SCOPE = "https://cognitiveservices.azure.com/.default";
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * An Azure OpenAI credential: an `api-key`, or an Entra ID app registration (client-credential
 * flow, by @azure/identity) whose token is fetched before it is needed and kept fresh by a timer.
 */
export class AzureAuth implements CredentialLink {
  readonly apiKey: string | null;
  readonly apiVersion: string;
  private entra: ClientSecretCredential | null;
  private readonly app: { tenant: string; client: string; secret: string; authorityHost: string | undefined } | null = null;
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
    this.app = { tenant, client, secret, authorityHost: c.settings.authority_host };
    this.entra = this.credential();
    void this.fetch().catch(() => undefined);
  }

  private credential(): ClientSecretCredential {
    const { tenant, client, secret, authorityHost } = this.app!;
    // An authority host of the credential's own is used as given: instance discovery would ask
    // Microsoft's public cloud which hosts are valid, and fails wherever that cloud is unreachable.
    return new ClientSecretCredential(tenant, client, secret, authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {});
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
    if (!this.entra || this.fetching) return;
    this.entra = this.credential();
    void this.fetch().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private fetch(): Promise<void> {
    this.fetching ??= this.entra!.getToken(SCOPE).then((t) => {
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
