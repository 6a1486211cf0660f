/**
 * The base64 body of a PEM or armored block however it was written down: as a file, inside a
 * JSON string (`\n` escapes, once or twice), as concatenated string literals, or indented. Two
 * copies of one key give the same body, which is what a leak fingerprint compares.
 */
export function pemBody(block: string): string {
  return block
    .replace(/^[\s\S]*?-----BEGIN[^\n\\]*?-----/, "")
    .replace(/-----END[\s\S]*$/, "")
    .replace(/\\+[nr]/g, "\n")
    .replace(/["'`]\s*[+,.&]?\s*["'`]/g, "")
    .replace(/\s+/g, "");
}
