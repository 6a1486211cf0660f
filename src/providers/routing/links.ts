import type { Dispatcher } from "undici";
import type { UsableCredential } from "../credential-vault.js";
import type { CredentialLink, Provider } from "../types.js";

/**
 * The per-credential state of providers that keep one (signers, tokens), made on first use and
 * kept while the credential stays the same; a changed secret, setting or base URL makes a new one.
 */
export class CredentialLinks {
  private readonly links = new Map<string, { fingerprint: string; link: CredentialLink }>();

  /** `dispatcher`: how links reach their token endpoints (the outbound policy's agent). */
  constructor(private readonly dispatcher?: Dispatcher) {}

  /** The link for a credential; null when its provider keeps none. Throws when the secret cannot be read. */
  get(c: UsableCredential, provider: Provider): CredentialLink | null {
    if (!provider.connect) return null;
    const fingerprint = `${c.provider}\u0000${c.baseUrl ?? ""}\u0000${JSON.stringify(c.settings)}\u0000${c.secret}`;
    const hit = this.links.get(c.id);
    if (hit && hit.fingerprint === fingerprint) return hit.link;
    hit?.link.close();
    const link = provider.connect({ id: c.id, baseUrl: c.baseUrl, secret: c.secret, settings: c.settings, ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}) });
    this.links.set(c.id, { fingerprint, link });
    return link;
  }

  close(): void {
    for (const { link } of this.links.values()) link.close();
    this.links.clear();
  }
}
