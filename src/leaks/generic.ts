import { shannonEntropy } from "./entropy.js";

const DOTTED_IDENTIFIER = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
const UPPER_SNAKE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Whether a value assigned to a secret-looking name looks random enough to be one: letters and
 * digits, not a path, URL or identifier (placeholders are excluded for every rule: exclusions.ts), and Shannon entropy near that of random text
 * of its length (log2(len) - 0.5, capped at 3.5 bits per character).
 */
export function looksLikeGenericSecret(value: string): boolean {
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (value.includes("://") || value.startsWith("/") || value.startsWith("./")) return false;
  if (DOTTED_IDENTIFIER.test(value) || UPPER_SNAKE.test(value)) return false;
  const threshold = Math.min(3.5, Math.log2(value.length) - 0.5);
  return shannonEntropy(value) >= threshold;
}
