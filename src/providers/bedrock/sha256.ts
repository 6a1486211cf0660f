import { createHmac, hash } from "node:crypto";

type Source = string | ArrayBuffer | ArrayBufferView;

function bytes(data: Source, encoding?: BufferEncoding): Buffer | string {
  if (typeof data === "string") return encoding === undefined || encoding === "utf8" ? data : Buffer.from(data, encoding);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * SHA-256 (HMAC-SHA-256 when given a secret) by Node's native crypto, in the shape the AWS signer
 * takes as its `sha256` option. Its default, @aws-crypto/sha256-js, is pure JavaScript and cost
 * most of a signature (four hashes a request). A plain hash is one `crypto.hash` call at digest
 * (the signer updates once per hash), which skips building a Hash object.
 */
export class NodeSha256 {
  protected readonly secret: Buffer | string | undefined;
  protected parts: (Buffer | string)[] = [];

  constructor(secret?: Source) {
    this.secret = secret === undefined ? undefined : bytes(secret);
  }

  update(data: Source, encoding?: "utf8" | "ascii" | "latin1"): void {
    this.parts.push(bytes(data, encoding));
  }

  digest(): Promise<Uint8Array> {
    const parts = this.parts;
    if (this.secret !== undefined) {
      const mac = createHmac("sha256", this.secret);
      for (const p of parts) mac.update(p);
      return Promise.resolve(mac.digest());
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
    return Promise.resolve(hash("sha256", data ?? "", "buffer"));
  }

  reset(): void {
    this.parts = [];
  }
}
