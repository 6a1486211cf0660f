import { createHmac, hkdfSync } from "node:crypto";
import { sha256Hex } from "./hashing.js";
import { pemBody } from "./pem.js";

/*
 * Leak fingerprints of provider credentials. A scanner sends the SHA-256 of what it found (never
 * the plaintext, as for Latchkey keys); the server keeps, per credential, an HMAC of that digest
 * under a key derived from the master key, so that the database alone cannot be used to test
 * guesses of a credential, and compares the two. Neither side ever stores the secret.
 */

const INFO = "latchkey credential leak fingerprint v1";
// A part shorter than this is an account name, a region or an id, not something that leaks on its own.
const MIN_PART_LENGTH = 16;
const SECRET_FIELD = /private_?key|secret|key|token|password|credential/i;

/** The HMAC key of leak fingerprints: HKDF-SHA-256 of the master key; never stored. */
export function fingerprintKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), INFO, 32));
}

/** The form two copies of one secret share: a PEM block's body however it was escaped, else the trimmed text. */
export function canonicalSecret(secret: string): string {
  return /^\s*-----BEGIN /.test(secret) ? pemBody(secret) : secret.trim();
}

/** What a scanner sends for a found secret: SHA-256 (hex) of its canonical form. */
export function leakDigest(secret: string): string {
  return sha256Hex(canonicalSecret(secret));
}

/** What is stored and compared: HMAC-SHA-256 (hex) of a leak digest under the fingerprint key. */
export function fingerprintOfDigest(key: Buffer, digest: string): string {
  return createHmac("sha256", key).update(digest).digest("hex");
}

export interface SecretPart {
  /** Which part of the secret: "secret" (all of it), a JSON field path, or "segment N". */
  part: string;
  value: string;
}

function jsonParts(value: unknown, path: string, out: SecretPart[]): void {
  if (typeof value === "string") {
    const field = path.split(".").pop() ?? "";
    if (SECRET_FIELD.test(field) && value.length >= MIN_PART_LENGTH && !value.includes("://")) out.push({ part: path, value });
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) jsonParts(v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * The parts of a credential's secret that can leak on their own, whatever the provider stores:
 * the whole secret; for a JSON secret (a service-account key file, an access-key pair) each
 * secret-named field (`private_key`, `private_key_id`, `secret_access_key`, …); for a compound
 * string (`AKIA…:secret`, `Endpoint=…;AccessKey=…`) each long segment.
 */
export function leakableParts(secret: string): SecretPart[] {
  const parts: SecretPart[] = [{ part: "secret", value: secret }];
  const trimmed = secret.trim();
  if (trimmed.startsWith("{")) {
    try {
      jsonParts(JSON.parse(trimmed), "", parts);
    } catch {
      // Not JSON after all: the whole secret is its only part.
    }
  } else if (!trimmed.includes("-----BEGIN ")) {
    trimmed.split(/[\s:;,|=]+/).forEach((segment, i, all) => {
      if (all.length > 1 && segment.length >= MIN_PART_LENGTH) parts.push({ part: `segment ${i + 1}`, value: segment });
    });
  }
  const seen = new Set<string>();
  return parts.filter((p) => {
    const c = canonicalSecret(p.value);
    if (seen.has(c)) return false;
    seen.add(c);
    return true;
  });
}

/** The stored fingerprints of a secret, one per leakable part. */
export function credentialFingerprints(key: Buffer, secret: string): { part: string; fingerprint: string }[] {
  return leakableParts(secret).map((p) => ({ part: p.part, fingerprint: fingerprintOfDigest(key, leakDigest(p.value)) }));
}
