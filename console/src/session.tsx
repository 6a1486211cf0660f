import { createContext, useContext } from "react";
import type { Session } from "./types";

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("no session");
  return s;
}

/** Mirrors the server's scope check, only to hide what the server would refuse anyway. */
export function can(s: Session, scope: string): boolean {
  if (s.scopes.includes("*") || s.scopes.includes(scope)) return true;
  return scope.endsWith(":read") && s.scopes.includes(scope.replace(/:read$/, ":write"));
}

export function useCan(scope: string): boolean {
  return can(useSession(), scope);
}
