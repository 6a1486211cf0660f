import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { CloudIdentities } from "../providers/index.js";
import { CliError } from "./context.js";

/** The cloud flags of `latchkey simulator`, as commander collects them. */
export interface CloudFlags {
  clouds?: string;
  awsKey?: string[];
  bedrockApiKey?: string[];
  googleServiceAccount?: string[];
  azureKey?: string[];
  azureDeployment?: string[];
  entraApp?: string[];
}

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function readJson(path: string, flag: string): Record<string, unknown> {
  try {
    const j: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (j && typeof j === "object" && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${flag} ${path}: ${(err as Error).message}`);
  }
  throw new CliError(`${flag} ${path}: not a JSON object`);
}

/** A service-account key file as the simulated token endpoint trusts it: its email and the public half of its key. */
function serviceAccount(path: string): { clientEmail: string; publicKey: string } {
  const sa = readJson(path, "--google-service-account");
  if (typeof sa.client_email !== "string" || typeof sa.private_key !== "string") {
    throw new CliError(`--google-service-account ${path}: a service-account key file needs client_email and private_key`);
  }
  return { clientEmail: sa.client_email, publicKey: createPublicKey(sa.private_key).export({ type: "spki", format: "pem" }).toString() };
}

/** Splits "a:b[:c]" into its parts, or says what the flag expects. */
function parts(v: string, flag: string, min: number, shape: string): string[] {
  const p = v.split(":");
  if (p.length < min || p.some((x, i) => i < min && !x)) throw new CliError(`${flag}: '${v.slice(0, 12)}…' should look like ${shape}`);
  return p;
}

/**
 * The identities the standalone simulator's clouds accept: a `--clouds` JSON file (the fields of
 * `CloudIdentities`, the test suites' own option) and the flags, added together.
 */
export function cloudIdentities(o: CloudFlags): CloudIdentities {
  const ids: CloudIdentities = o.clouds ? (readJson(o.clouds, "--clouds") as CloudIdentities) : {};
  const add = <T>(list: T[] | undefined, more: T[]): T[] | undefined => (more.length ? [...(list ?? []), ...more] : list);
  ids.aws = add(ids.aws, (o.awsKey ?? []).map((v) => {
    const [accessKeyId, secretAccessKey, ...token] = parts(v, "--aws-key", 2, "ACCESS_KEY_ID:SECRET[:SESSION_TOKEN]");
    return { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, ...(token.length ? { sessionToken: token.join(":") } : {}) };
  }));
  ids.bedrockApiKeys = add(ids.bedrockApiKeys, o.bedrockApiKey ?? []);
  ids.google = add(ids.google, (o.googleServiceAccount ?? []).map(serviceAccount));
  ids.azureKeys = add(ids.azureKeys, o.azureKey ?? []);
  if (o.azureDeployment?.length) {
    ids.azureDeployments = { ...ids.azureDeployments };
    for (const d of o.azureDeployment) {
      const eq = d.indexOf("=");
      if (eq <= 0 || eq === d.length - 1) throw new CliError(`--azure-deployment: '${d}' should look like DEPLOYMENT=MODEL`);
      ids.azureDeployments[d.slice(0, eq)] = d.slice(eq + 1);
    }
  }
  ids.entraApps = add(ids.entraApps, (o.entraApp ?? []).map((v) => {
    const [tenantId, clientId, ...secret] = parts(v, "--entra-app", 3, "TENANT_ID:CLIENT_ID:CLIENT_SECRET");
    return { tenantId: tenantId!, clientId: clientId!, clientSecret: secret.join(":") };
  }));
  return ids;
}

/** What each cloud accepts, for the start-up lines (names and counts, never a secret). */
export function describeClouds(ids: CloudIdentities): string[] {
  const n = (x: unknown[] | undefined) => x?.length ?? 0;
  const deployments = Object.keys(ids.azureDeployments ?? {});
  return [
    `bedrock: ${n(ids.aws)} access key(s) (SigV4 checked), ${n(ids.bedrockApiKeys)} API key(s)`,
    `vertex: ${n(ids.google)} service account(s) (token endpoint at /token)`,
    `azure-openai: ${n(ids.azureKeys)} api-key(s), ${n(ids.entraApps)} Entra ID app(s) (token endpoint at /{tenant}/oauth2/v2.0/token), deployments: ${deployments.length ? deployments.join(", ") : "any"}`,
  ];
}
