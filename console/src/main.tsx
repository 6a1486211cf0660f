import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError, del, get, post, setCsrfToken } from "./api";
import { navigate, useRoute, Link } from "./router";
import { SessionContext, can } from "./session";
import type { Session } from "./types";
import { Accept, Setup, SignIn } from "./pages/auth";
import { PAGES } from "./pages";
import "./styles.css";

const queries = new QueryClient({
  defaultOptions: {
    queries: { retry: (n, err) => !(err instanceof ApiError && err.status < 500) && n < 2, refetchOnWindowFocus: false, staleTime: 5_000 },
  },
});

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { page } = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const visible = PAGES.filter((p) => can(session, p.scope));
  const active = visible.find((p) => p.path === page) ?? visible[0]!;
  const Body = active.component;
  const signOut = async (everywhere: boolean) => {
    await (everywhere ? post("/api/v1/session/revoke-all") : del("/api/v1/session")).catch(() => undefined);
    onSignOut();
  };
  return (
    <div className="shell">
      <header className="topbar">
        <button type="button" className="ghost menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>☰ Menu</button>
        <span className="brand">Latchkey</span>
        <span className="org">{session.organization?.name}</span>
        <span className="who" title={session.user?.email}>{session.user?.email} · <span className="role">{session.role}</span></span>
        <button type="button" className="ghost" onClick={() => void signOut(false)}>Sign out</button>
        <button type="button" className="ghost hide-narrow" onClick={() => void signOut(true)}>Sign out everywhere</button>
      </header>
      <nav id="nav" className={menuOpen ? "open" : undefined} aria-label="Sections">
        {visible.map((p) => (
          <Link key={p.path} to={p.path} aria-current={p === active ? "page" : undefined} onClick={() => setMenuOpen(false)}>{p.title}</Link>
        ))}
      </nav>
      <main className="content"><Body /></main>
    </div>
  );
}

function App() {
  const { page, params } = useRoute();
  const [session, setSession] = useState<Session | null | "loading">("loading");
  const load = useCallback(async () => {
    try {
      const s = await get<Session>("/api/v1/session");
      setCsrfToken(s.csrf_token);
      setSession(s);
    } catch {
      setCsrfToken(null);
      setSession(null);
    }
  }, []);
  useEffect(() => void load(), [load]);
  // A request that finds the session gone sends the person back to sign in.
  useEffect(() => queries.getQueryCache().subscribe((e) => {
    const err = e.query.state.error;
    if (err instanceof ApiError && err.status === 401) setSession(null);
  }), []);

  const enter = () => {
    queries.clear();
    navigate("overview");
    void load();
  };
  if (page === "setup") return <Setup token={params.get("token")} onDone={enter} />;
  if (page === "accept") return <Accept token={params.get("token")} onDone={enter} />;
  if (session === "loading") return <p className="muted center">Loading…</p>;
  if (!session) return <SignIn onSignedIn={() => { queries.clear(); void load(); }} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={() => { queries.clear(); setCsrfToken(null); setSession(null); navigate("overview"); }} />
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}><App /></QueryClientProvider>
  </StrictMode>,
);
