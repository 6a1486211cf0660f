/**
 * Whether an error is a dependency that failed (the database or Redis unreachable, busy, out of
 * space or restarting) rather than a fault of ours: those are answered 503, so a client retries,
 * never 500. Recognised by the drivers' own codes: Node's socket errors, PostgreSQL's SQLSTATE
 * classes 08 (connection), 53 (resources), 57P (operator intervention), SQLite's result codes and
 * ioredis's connection messages.
 */
export function isDependencyFailure(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if ((e as { code?: unknown }).code === "store_unavailable") return true;
    const code = typeof e.code === "string" ? e.code : "";
    if (SOCKET_CODES.has(code) || /^(08|53|57P)/.test(code) || SQLITE_CODES.test(code)) return true;
    if (e.name === "MaxRetriesPerRequestError") return true;
    const message = typeof e.message === "string" ? e.message : "";
    if (DRIVER_MESSAGES.test(message)) return true;
  }
  return false;
}

/** The driver's code when an error is a full disk (SQLite's SQLITE_FULL, the system's ENOSPC, PostgreSQL's 53100), else null. */
export function diskFullCode(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === "SQLITE_FULL" || e.code === "ENOSPC" || e.code === "53100") return e.code;
  }
  return null;
}

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ENOSPC"]);
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL|NOMEM)/;
const DRIVER_MESSAGES = /Connection terminated|Connection is closed|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)|statement timeout/i;
