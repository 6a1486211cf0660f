import { createRequire } from "node:module";

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use, synchronously, then kept. For the cloud providers' SDKs
 * (AWS signing and event streams): loaded at start they cost every process about 20 MB and a
 * quarter of a second, though most never serve a Bedrock deployment. The call that first needs
 * one waits for it to load (tens of milliseconds, once).
 */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
