/** A W3C trace-context header as one string (a repeated header is ignored rather than guessed at). */
export function traceHeader(v: string | string[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}
