import type { JWT } from "google-auth-library";
import { fetch as undiciFetch, type Dispatcher } from "undici";
import type { CredentialInfo, CredentialLink } from "../types.js";

const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
// Minted again this long before expiry, off the request path (Google's own libraries use 5 min).
const REFRESH_BEFORE_MS = 5 * 60_000;

interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
  project_id?: string;
}

/** Reads a service-account JSON key; names the field that is missing. */
export function parseServiceAccount(secret: string): ServiceAccount {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(secret) as Record<string, unknown>;
  } catch {
    throw new Error("a Vertex AI secret is a service-account JSON key");
  }
  for (const f of ["client_email", "private_key"] as const) if (typeof j[f] !== "string") throw new Error(`the service-account key has no ${f}`);
  return j as unknown as ServiceAccount;
}

/**
 * A Vertex AI credential's access token, minted from its service-account key by
 * google-auth-library (RS256 JWT grant) and kept fresh by a timer, so requests read it without
 * waiting. The key's `token_uri` is honoured (the library posts to Google's fixed URL otherwise),
 * which is how a private token endpoint or the simulator is reached.
 */
/** The library's fetch, through the outbound policy's agent: the token endpoint is checked at connect time too. */
function fetchThrough(dispatcher: Dispatcher): typeof fetch {
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
}

/** google-auth-library, imported when the first Vertex credential is made: a node without one never pays its memory. */
let googleAuth: Promise<typeof import("google-auth-library")> | null = null;

export class VertexToken implements CredentialLink {
  readonly projectId: string | undefined;
  readonly settings: Record<string, string>;
  private readonly client: Promise<JWT>;
  private token: string | null = null;
  private expiresAt = 0;
  private minting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last minting failure, for the credential test and logs (never the key). */
  lastError: string | null = null;

  constructor(c: CredentialInfo, private readonly now: () => number = Date.now) {
    const sa = parseServiceAccount(c.secret);
    this.settings = c.settings;
    this.projectId = sa.project_id;
    const tokenUri = sa.token_uri;
    this.client = (googleAuth ??= import("google-auth-library")).then(({ JWT }) => {
      const client = new JWT({
        email: sa.client_email, key: sa.private_key, keyId: sa.private_key_id, scopes: [SCOPE],
        ...(c.dispatcher ? { transporterOptions: { fetchImplementation: fetchThrough(c.dispatcher) } } : {}),
      });
      if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL && tokenUri !== "https://www.googleapis.com/oauth2/v4/token") {
        client.transporter.interceptors.request.add({
          resolved: async (o) => {
            if (String(o.url) === GOOGLE_TOKEN_URL) o.url = new URL(tokenUri);
            return o;
          },
        });
      }
      return client;
    });
    void this.mint().catch(() => undefined);
  }

  /** The bearer token when it is fresh; null while the first one is minted. */
  current(): string | null {
    return this.token && this.now() < this.expiresAt ? this.token : null;
  }

  ready(): Promise<void> | null {
    return this.current() ? null : this.mint();
  }

  /** The upstream refused the token: mint a new one now (requests keep the old one meanwhile). */
  refresh(): void {
    this.token = null;
    void this.expireThenMint();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private mint(): Promise<void> {
    this.minting ??= this.client.then((client) => client.authorize()).then((creds) => {
      if (!creds.access_token) throw new Error("the token endpoint answered no access_token");
      this.token = creds.access_token;
      this.expiresAt = creds.expiry_date ?? this.now() + 3_000_000;
      this.lastError = null;
      this.schedule(Math.max(1000, this.expiresAt - this.now() - REFRESH_BEFORE_MS));
    }, (err: unknown) => {
      this.lastError = (err as Error).message;
      this.schedule(5000);
      throw err;
    }).finally(() => {
      this.minting = null;
    });
    return this.minting;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.expireThenMint(), ms);
    this.timer.unref();
  }

  /**
   * The library's cached token is marked expired, so that its next authorize() mints one. Never
   * rejects (it runs from a timer): a library that failed to load fails the mint, which records it.
   */
  private async expireThenMint(): Promise<void> {
    const client = await this.client.catch(() => null);
    if (client) client.credentials = { ...client.credentials, expiry_date: 1 };
    await this.mint().catch(() => undefined);
  }
}
