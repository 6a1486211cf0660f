/**
 * The masked form of a secret, the way provider consoles show a key hint: the first characters
 * (up to 16, fewer for short secrets so most of it stays hidden), "…", the last 4.
 */
export function maskSecret(secret: string): string {
  const visibleHead = Math.min(16, Math.floor(secret.length / 3));
  const visibleTail = secret.length >= 16 ? 4 : 0;
  return `${secret.slice(0, visibleHead)}…${visibleTail ? secret.slice(-visibleTail) : ""}`;
}
