import { createPublicKey, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { simulateMessages } from "./anthropic.js";
import type { CloudState } from "./clouds.js";
import type { SimCall } from "./emit.js";
import { simulateGeminiCountTokens, simulateGenerate } from "./gemini.js";

const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

function googleError(res: ServerResponse, code: number, status: string, message: string, wrapped = false): void {
  const body = { error: { code, message, status } };
  res.writeHead(code, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(wrapped ? [body] : body));
}

/**
 * POST /token: Google's OAuth token endpoint for the JWT bearer grant. The assertion must be an
 * RS256 JWT signed by a trusted service account, for Google's audience, asking for cloud-platform,
 * living at most an hour.
 */
export function simulateGoogleToken(res: ServerResponse, text: string, cloud: CloudState): void {
  const form = new URLSearchParams(text);
  const bad = (why: string) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "invalid_grant", error_description: why }));
  };
  if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return bad("Invalid grant_type.");
  const parts = (form.get("assertion") ?? "").split(".");
  if (parts.length !== 3) return bad("Invalid JWT.");
  let header: { alg?: string };
  let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
  try {
    header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as typeof header;
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as typeof claims;
  } catch {
    return bad("Invalid JWT.");
  }
  const account = cloud.ids.google?.find((g) => g.clientEmail === claims.iss);
  if (header.alg !== "RS256" || !account) return bad("Invalid JWT Signature.");
  const signed = verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey(account.publicKey), Buffer.from(parts[2]!, "base64url"));
  if (!signed) return bad("Invalid JWT Signature.");
  const now = Date.now() / 1000;
  if (claims.aud !== GOOGLE_TOKEN_URL) return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
  if (!String(claims.scope ?? "").split(" ").includes("https://www.googleapis.com/auth/cloud-platform")) return bad("Invalid scope.");
  if (!claims.iat || !claims.exp || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 300) return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
  const { token, ttl } = cloud.mintGoogleToken(account.clientEmail);
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ access_token: token, expires_in: ttl, token_type: "Bearer" }));
}

const FAULTS: Record<string, [number, string, string]> = {
  "429": [429, "RESOURCE_EXHAUSTED", "Resource exhausted, please try again later."],
  "500": [500, "INTERNAL", "Internal error encountered."],
  "503": [503, "UNAVAILABLE", "The service is currently unavailable."],
  "529": [503, "UNAVAILABLE", "The service is currently unavailable."],
};

/** Vertex AI's publisher model methods: Claude (rawPredict, streamRawPredict) and Gemini (generateContent…). */
export function simulateVertex(req: IncomingMessage, res: ServerResponse, call: SimCall, cloud: CloudState, publisher: string, model: string, method: string, alt: string | null): void {
  const auth = String(req.headers.authorization ?? "");
  const token = auth.startsWith("Bearer ") ? cloud.googleTokens.get(auth.slice(7)) : undefined;
  if (!token || token.expiresAt <= Date.now()) {
    return googleError(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.");
  }
  const fault = call.script.fault ? FAULTS[call.script.fault] : undefined;
  if (fault) return googleError(res, fault[0], fault[1], publisher === "anthropic" && fault[0] === 429 ? `Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: anthropic-${model.split("@")[0]}. Please submit a quota increase request.` : fault[2], publisher === "anthropic" && fault[0] === 429);
  const body = call.body;
  if (publisher === "anthropic") {
    if (method !== "rawPredict" && method !== "streamRawPredict") return googleError(res, 400, "INVALID_ARGUMENT", `Unsupported method ${method} for publisher model.`);
    if (typeof body.anthropic_version !== "string" || !/^(vertex-)?\d{4}-\d{2}-\d{2}$/.test(body.anthropic_version)) return googleError(res, 400, "INVALID_ARGUMENT", "anthropic_version: Input should be 'vertex-2023-10-16'");
    if ("model" in body) return googleError(res, 400, "INVALID_ARGUMENT", "model: Extra inputs are not permitted");
    return simulateMessages({ ...call, model, stream: method === "streamRawPredict" });
  }
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.some((c) => typeof (c as { role?: unknown })?.role !== "string")) {
    return googleError(res, 400, "INVALID_ARGUMENT", "Please use a valid role: user, model.");
  }
  if (method === "countTokens") return simulateGeminiCountTokens(call);
  if (method !== "generateContent" && method !== "streamGenerateContent") return googleError(res, 400, "INVALID_ARGUMENT", `Unsupported method ${method}.`);
  simulateGenerate({ ...call, model, stream: method === "streamGenerateContent" }, alt === "sse");
}
