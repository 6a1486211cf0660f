import { hmacSha256Hex, sha256Hex } from "../lib/index.js";

/**
 * How a plaintext key is stored: SHA-256, or with a pepper HMAC-SHA-256(pepper, SHA-256(key)).
 * Peppering the digest rather than the key keeps the same strength and lets a client that holds
 * only a key's SHA-256 (the leak scanner's `--check`) ask which key it is without sending it.
 */
export function hashKey(plaintext: string, pepper?: string): string {
  return hashFromSha256(sha256Hex(plaintext), pepper);
}

export function hashFromSha256(sha256: string, pepper?: string): string {
  return pepper ? hmacSha256Hex(pepper, sha256) : sha256;
}
