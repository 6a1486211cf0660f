/*
 * Offline checks of credential formats that carry a structure rather than a checksum: the rule
 * keeps a match only when its decoded form is what the vendor's tools produce.
 */

import { pemBody } from "../lib/index.js";

const BEDROCK_LONG_TERM = "BedrockAPIKey-";

function base64Text(b64: string): string {
  return Buffer.from(b64, "base64").toString("latin1");
}

/** A long-term Bedrock API key: `ABSK` + base64 of `BedrockAPIKey-<id>-at-<account>:<secret>`. */
export function isBedrockLongTermKey(key: string): boolean {
  const decoded = base64Text(key.slice(4));
  return decoded.startsWith(BEDROCK_LONG_TERM) && /^BedrockAPIKey-[\w-]+:[A-Za-z0-9+/=]{16,}$/.test(decoded);
}

/** A short-term Bedrock API key: `bedrock-api-key-` + base64 of a SigV4-presigned CallWithBearerToken URL. */
export function isBedrockShortTermKey(key: string): boolean {
  const decoded = base64Text(key.slice("bedrock-api-key-".length));
  return decoded.startsWith("bedrock.amazonaws.com/") && decoded.includes("X-Amz-Signature=");
}

/** An OpenSSH private key block whose body decodes to the format's magic, `openssh-key-v1\0`. */
export function isOpenSshKeyBlock(block: string): boolean {
  return base64Text(pemBody(block).slice(0, 24)).startsWith("openssh-key-v1\u0000");
}
