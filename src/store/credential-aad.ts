/**
 * The associated data that binds a credential's envelope to its record and provider: an envelope
 * moved to another record, or read as another provider's, does not open. Its own module, so that
 * the credentials store and the fingerprints it writes both use it without importing each other.
 */
export function credentialAad(id: string, provider: string): string {
  return `latchkey-credential|${id}|${provider}`;
}
