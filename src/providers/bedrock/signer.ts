import { hash } from "node:crypto";
import type { SignatureV4 } from "@smithy/signature-v4";
import { lazyRequire } from "../../lib/lazy-require.js";
import type { RequestSigner } from "../types.js";
import { NodeSha256 } from "./sha256.js";

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

// The headers the signer adds; copied onto the outgoing request.
const SIGNED_OUT = ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] as const;

const smithySigner = lazyRequire<typeof import("@smithy/signature-v4")>("@smithy/signature-v4");
type SignerOptions = ConstructorParameters<typeof SignatureV4>[0];
let secondSigner: (new (o: SignerOptions) => SignatureV4) | null = null;

/**
 * The SDK's signer, with the date formatting it repeats on every request (an ISO string and two
 * regular-expression replacements) remembered for the second it names. Measured: about 6% of a
 * signature. The class is made when the first Bedrock credential is: the SDK loads then.
 */
function newSecondSignatureV4(o: SignerOptions): SignatureV4 {
  secondSigner ??= class SecondSignatureV4 extends smithySigner().SignatureV4 {
    private second = Number.NaN;
    private dated = { longDate: "", shortDate: "" };

    protected override formatDate(now: Date | string | number): { longDate: string; shortDate: string } {
      const t = now instanceof Date ? now.getTime() : Number.NaN;
      if (Number.isNaN(t)) return super.formatDate(now);
      const second = Math.floor(t / 1000);
      if (second !== this.second) {
        this.dated = super.formatDate(now);
        this.second = second;
      }
      return this.dated;
    }
  };
  return new secondSigner(o);
}

/** Two private steps of the SDK's signer, called per request; remembered below when present under these names. */
interface SignerSteps {
  getSigningKey(credentials: AwsKeys, region: string, shortDate: string, service?: string): Promise<Uint8Array>;
  getCanonicalPath(request: { path: string }): string;
}

/**
 * SigV4 for one credential, by the AWS SDK's own signer (@smithy/signature-v4), made once per
 * credential and reused. Per request it builds one canonical request and computes one hash and one
 * HMAC over it, all by Node's native SHA-256: the body's hash is given to it as
 * `x-amz-content-sha256` (one native call, hex out). What the SDK recomputes per request but
 * depends only on the credential and the day, the second or the path is remembered: the signing
 * key (the SDK's own derivation, once a day: its cache lookup cost an HMAC, a hex string and a
 * key string per request), the formatted date, the canonical path of each model's endpoint.
 * Together about a third of a signature's CPU; the signatures are the SDK's, byte for byte (tests
 * compare them with its default signer across days). Only headers the gateway sets are signed
 * (host, content-type, accept, the body hash): a caller's header or a proxy's rewrite can never
 * break the signature.
 */
export class BedrockSigner implements RequestSigner {
  private readonly v4: SignatureV4;
  // A credential signs for one origin: its parts are kept rather than parsed on every request.
  private origin = "";
  private url: URL | null = null;

  private keyDay = "";
  private key: Promise<Uint8Array> | null = null;
  private readonly paths = new Map<string, string>();

  constructor(keys: AwsKeys, readonly region: string, service = "bedrock") {
    this.v4 = newSecondSignatureV4({ credentials: keys, region, service, sha256: NodeSha256, uriEscapePath: true, applyChecksum: true });
    const steps = this.v4 as unknown as SignerSteps;
    // An SDK without these steps (renamed in a release) signs unchanged, only without the memory.
    if (typeof steps.getSigningKey === "function" && typeof steps.getCanonicalPath === "function") {
      const signingKey = steps.getSigningKey.bind(steps);
      const canonicalPath = steps.getCanonicalPath.bind(steps);
      steps.getSigningKey = (credentials, region, shortDate, service) => this.signingKey(signingKey, credentials, region, shortDate, service);
      steps.getCanonicalPath = (request) => this.canonicalPath(canonicalPath, request);
    }
  }

  /** The SDK's signing key for the day, derived by it once a day (region and service are the credential's). */
  private signingKey(derive: SignerSteps["getSigningKey"], credentials: AwsKeys, region: string, shortDate: string, service?: string): Promise<Uint8Array> {
    const day = `${shortDate}/${region}/${service ?? ""}`;
    if (day !== this.keyDay || !this.key) {
      this.key = derive(credentials, region, shortDate, service);
      this.keyDay = day;
    }
    return this.key;
  }

  /** The SDK's canonical path of an endpoint, once per path (a credential calls a handful). */
  private canonicalPath(canonical: SignerSteps["getCanonicalPath"], request: { path: string }): string {
    let c = this.paths.get(request.path);
    if (c === undefined) {
      if (this.paths.size >= 64) this.paths.clear();
      c = canonical(request);
      this.paths.set(request.path, c);
    }
    return c;
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
