import { randomBytes } from "node:crypto";
import { EntraDouble } from "./entra.js";

/** Who the simulated clouds know: the credentials a test gives the gateway, as the real services would hold them. */
export interface CloudIdentities {
  /** AWS access keys (SigV4) and Bedrock API keys (bearer). */
  aws?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }[];
  bedrockApiKeys?: string[];
  /** Service accounts the token endpoint trusts: client email and public key (PEM). */
  google?: { clientEmail: string; publicKey: string }[];
  /** Lifetime of the access tokens the token endpoint mints (Google: 3599 s). */
  googleTokenTtlSeconds?: number;
  /** Azure OpenAI: accepted `api-key` values and deployments (name → model); any deployment when absent. */
  azureKeys?: string[];
  azureDeployments?: Record<string, string>;
  /** Entra ID app registrations (client-credential flow) whose tokens Azure OpenAI accepts as bearers. */
  entraApps?: { tenantId: string; clientId: string; clientSecret: string }[];
  /** Lifetime of the access tokens the Entra token endpoint mints (about an hour in Entra). */
  entraTokenTtlSeconds?: number;
}

/** Tokens minted by the simulated Google token endpoint. */
export class CloudState {
  readonly googleTokens = new Map<string, { email: string; expiresAt: number }>();
  /** What the gateway sent: SigV4 scopes and model path labels, so tests can check the form. */
  readonly seen: { bedrockPaths: string[]; bedrockOps: string[]; googleTokens: number; entraTokens: number; azureAuth: string[] } = {
    bedrockPaths: [], bedrockOps: [], googleTokens: 0, entraTokens: 0, azureAuth: [],
  };
  /** The Entra ID token endpoint's state: its signing key and minted tokens. */
  readonly entra: EntraDouble;

  constructor(readonly ids: CloudIdentities = {}) {
    this.entra = new EntraDouble(this);
  }

  mintGoogleToken(email: string): { token: string; ttl: number } {
    const ttl = this.ids.googleTokenTtlSeconds ?? 3599;
    const token = `ya29.sim-${randomBytes(18).toString("base64url")}`;
    this.googleTokens.set(token, { email, expiresAt: Date.now() + ttl * 1000 });
    this.seen.googleTokens++;
    return { token, ttl };
  }

  /** Ages every minted token past its expiry, as if the gateway had kept one too long. */
  expireGoogleTokens(): void {
    for (const t of this.googleTokens.values()) t.expiresAt = 0;
  }
}
