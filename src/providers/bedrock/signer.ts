import { hash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { RequestSigner } from "../types.js";
import { derivingSha256 } from "./sha256.js";

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

// The headers the signer adds; copied onto the outgoing request.
const SIGNED_OUT = ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] as const;

/**
 * SigV4 for one credential, by the AWS SDK's own signer (@smithy/signature-v4), made once per
 * credential and reused. Per request it builds one canonical request and computes one hash and one
 * HMAC over it, all by Node's native SHA-256: the body's hash is given to it as
 * `x-amz-content-sha256` (one native call, hex out), and the HMACs that derive the day's signing
 * key are remembered per credential (see `derivingSha256`). Only headers the gateway sets are
 * signed (host, content-type, accept, the body hash): a caller's header or a proxy's rewrite can
 * never break the signature.
 */
export class BedrockSigner implements RequestSigner {
  private readonly v4: SignatureV4;
  // A credential signs for one origin: its parts are kept rather than parsed on every request.
  private origin = "";
  private url: URL | null = null;

  constructor(keys: AwsKeys, readonly region: string, service = "bedrock") {
    this.v4 = new SignatureV4({ credentials: keys, region, service, sha256: derivingSha256(), uriEscapePath: true, applyChecksum: true });
  }

  async sign(origin: string, path: string, headers: Record<string, string>, body: Buffer, at?: Date, method = "POST"): Promise<void> {
    if (origin !== this.origin || !this.url) {
      this.url = new URL(origin);
      this.origin = origin;
    }
    const url = this.url;
    const q = path.indexOf("?");
    const toSign = {
      method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
      path: q < 0 ? path : path.slice(0, q), query: q < 0 ? {} : Object.fromEntries(new URLSearchParams(path.slice(q + 1))),
      headers: {
        host: url.host, "content-type": "application/json", accept: headers.accept ?? "application/json",
        "x-amz-content-sha256": hash("sha256", body, "hex"),
      },
      body,
    };
    // The region given saves the signer resolving its region provider (one more await) per request.
    const signed = await this.v4.sign(toSign, { signingRegion: this.region, ...(at ? { signingDate: at } : {}) });
    headers["content-type"] = "application/json";
    headers.accept = toSign.headers.accept;
    for (const name of SIGNED_OUT) {
      const v = signed.headers[name];
      if (v !== undefined) headers[name] = v;
    }
  }
}

/**
 * A Bedrock credential's secret: JSON with `access_key_id`, `secret_access_key` and optional
 * `session_token`, or a Bedrock API key (sent as a bearer token, no signing).
 */
export function parseBedrockSecret(secret: string): AwsKeys | { apiKey: string } {
  const t = secret.trim();
  if (!t.startsWith("{")) return { apiKey: t };
  const j = JSON.parse(t) as Record<string, unknown>;
  const id = j.access_key_id ?? j.accessKeyId;
  const key = j.secret_access_key ?? j.secretAccessKey;
  const token = j.session_token ?? j.sessionToken;
  if (typeof id !== "string" || typeof key !== "string") throw new Error("a Bedrock secret needs access_key_id and secret_access_key");
  return { accessKeyId: id, secretAccessKey: key, sessionToken: typeof token === "string" ? token : undefined };
}
