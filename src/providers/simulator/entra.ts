import { createHash, generateKeyPairSync, sign, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudState } from "./clouds.js";

/** The audience of Azure OpenAI's tokens (scope `https://cognitiveservices.azure.com/.default`). */
export const COGNITIVE_AUDIENCE = "https://cognitiveservices.azure.com";

/**
 * Microsoft Entra ID's v2 endpoints as a client-credentials app meets them: the tenant's OpenID
 * configuration, and the token endpoint, which checks the tenant, the app's id and secret, the
 * grant type and a `.default` scope, and answers an RS256 access token for the scope's resource
 * (AADSTS error bodies otherwise). Tokens live `entraTokenTtlSeconds` (Entra: about an hour).
 */
export class EntraDouble {
  private keys: { privateKey: KeyObject; publicKey: KeyObject } | null = null;
  /** Minted tokens by their hash: expiry (ms), so a test can age them. */
  readonly tokens = new Map<string, number>();

  constructor(private readonly cloud: CloudState) {}

  /** Answers /{tenant}/v2.0/.well-known/openid-configuration and /{tenant}/oauth2/v2.0/token; false for other paths. */
  route(req: IncomingMessage, res: ServerResponse, path: string, text: string): boolean {
    const config = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (!config && !token) return false;
    const tenant = decodeURIComponent((config ?? token)![1]!);
    if (!(this.cloud.ids.entraApps ?? []).some((a) => a.tenantId === tenant)) {
      aadError(res, 400, "invalid_tenant", `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
      return true;
    }
    const base = `${"encrypted" in req.socket ? "https" : "http"}://${req.headers.host}/${tenant}`;
    if (config && req.method === "GET") {
      json(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/discovery/v2.0/keys`, issuer: `${base}/v2.0`, token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"], subject_types_supported: ["pairwise"], id_token_signing_alg_values_supported: ["RS256"],
      });
      return true;
    }
    if (!token || req.method !== "POST") {
      aadError(res, 405, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.");
      return true;
    }
    this.token(res, tenant, new URLSearchParams(text));
    return true;
  }

  /** Whether a bearer token is one this double minted for `audience`, unexpired and correctly signed. */
  accepts(bearer: string, audience: string): boolean {
    const exp = this.tokens.get(hash(bearer));
    if (exp === undefined || exp <= Date.now() || !this.keys) return false;
    const [h, p, s] = bearer.split(".");
    if (!h || !p || !s || !verify("RSA-SHA256", Buffer.from(`${h}.${p}`), this.keys.publicKey, Buffer.from(s, "base64url"))) return false;
    const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { aud?: string };
    return claims.aud === audience;
  }

  /** Ages every minted token past its expiry. */
  expireAll(): void {
    for (const k of this.tokens.keys()) this.tokens.set(k, 0);
  }

  private token(res: ServerResponse, tenant: string, form: URLSearchParams): void {
    if (form.get("grant_type") !== "client_credentials") return aadError(res, 400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
    const clientId = form.get("client_id") ?? "";
    const app = (this.cloud.ids.entraApps ?? []).find((a) => a.tenantId === tenant && a.clientId === clientId);
    if (!app) return aadError(res, 400, "unauthorized_client", `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    const given = Buffer.from(form.get("client_secret") ?? "");
    const wanted = Buffer.from(app.clientSecret);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return aadError(res, 401, "invalid_client", `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    const scope = form.get("scope") ?? "";
    if (!/^\S+\/\.default$/.test(scope)) return aadError(res, 400, "invalid_scope", `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    const ttl = this.cloud.ids.entraTokenTtlSeconds ?? 3599;
    const now = Math.floor(Date.now() / 1000);
    this.keys ??= generateKeyPairSync("rsa", { modulusLength: 2048 });
    const head = Buffer.from(JSON.stringify({ typ: "JWT", alg: "RS256", kid: "sim" })).toString("base64url");
    const body = Buffer.from(JSON.stringify({
      aud: scope.slice(0, -"/.default".length), iss: `https://sts.windows.net/${tenant}/`, iat: now, nbf: now, exp: now + ttl, appid: clientId, tid: tenant, roles: [],
    })).toString("base64url");
    const access = `${head}.${body}.${sign("RSA-SHA256", Buffer.from(`${head}.${body}`), this.keys.privateKey).toString("base64url")}`;
    this.tokens.set(hash(access), Date.now() + ttl * 1000);
    this.cloud.seen.entraTokens++;
    json(res, 200, { token_type: "Bearer", expires_in: ttl, ext_expires_in: ttl, access_token: access });
  }
}

const hash = (t: string): string => createHash("sha256").update(t).digest("hex");

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store, no-cache" });
  res.end(JSON.stringify(body));
}

function aadError(res: ServerResponse, status: number, error: string, description: string): void {
  json(res, status, { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)], timestamp: new Date().toISOString().replace("T", " ").slice(0, 19) + "Z", trace_id: crypto.randomUUID(), correlation_id: crypto.randomUUID() });
}
