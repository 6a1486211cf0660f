import { useEffect, useState, type FormEvent } from "react";
import { ApiError, get, post } from "../api";
import { ErrorText, Field } from "../ui";

function AuthFrame({ title, intro, children }: { title: string; intro?: string; children: React.ReactNode }) {
  useEffect(() => void (document.title = `${title} · Latchkey`), [title]);
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand">Latchkey</div>
        <h1>{title}</h1>
        {intro && <p className="muted">{intro}</p>}
        {children}
      </div>
    </main>
  );
}

function useSubmit(fn: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [needsOwner, setNeedsOwner] = useState(false);
  useEffect(() => void get<{ needs_owner: boolean }>("/api/v1/setup").then((r) => setNeedsOwner(r.needs_owner), () => undefined), []);
  const { busy, error, submit } = useSubmit(async () => {
    await post("/api/v1/session", { email, password });
    onSignedIn();
  });
  return (
    <AuthFrame title="Sign in">
      {needsOwner && <p className="notice">No one has set up this console yet. Open the one-time link that <code>latchkey up</code> printed to create the first owner.</p>}
      <form onSubmit={submit}>
        <Field label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </AuthFrame>
  );
}

function PasswordForm({ token, endpoint, askEmail, button, onDone }: { token: string; endpoint: string; askEmail: boolean; button: string; onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    if (password !== confirm) throw new Error("The two passwords are not the same.");
    await post(endpoint, { token, password, ...(name ? { name } : {}), ...(askEmail ? { email } : {}) });
    onDone();
  });
  return (
    <form onSubmit={submit}>
      {askEmail && <Field label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
      <Field label="Your name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
      <Field label="Password" type="password" autoComplete="new-password" required minLength={10} hint="At least 10 characters." value={password} onChange={(e) => setPassword(e.target.value)} />
      <Field label="Repeat the password" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>{busy ? "Working…" : button}</button>
    </form>
  );
}

export function Setup({ token, onDone }: { token: string | null; onDone: () => void }) {
  if (!token) return <AuthFrame title="Create the first owner"><p className="error">This page needs the one-time link that <code>latchkey up</code> printed.</p></AuthFrame>;
  return (
    <AuthFrame title="Create the first owner" intro="You are setting up this Latchkey console. The owner can invite everyone else.">
      <PasswordForm token={token} endpoint="/api/v1/setup" askEmail button="Create owner and sign in" onDone={onDone} />
    </AuthFrame>
  );
}

export function Accept({ token, onDone }: { token: string | null; onDone: () => void }) {
  const [invite, setInvite] = useState<{ email: string; role: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (token) post<{ email: string; role: string }>("/api/v1/invitations/inspect", { token }).then(setInvite, setError);
  }, [token]);
  if (!token || (error instanceof ApiError && error.status === 404)) {
    return <AuthFrame title="Accept the invitation"><p className="error">This invitation link is not valid any more. Ask the person who invited you for a new one.</p></AuthFrame>;
  }
  return (
    <AuthFrame title="Accept the invitation" intro={invite ? `You are invited as ${invite.role} with the email ${invite.email}. Choose a password.` : "Choose a password."}>
      <ErrorText error={error} />
      <PasswordForm token={token} endpoint="/api/v1/invitations/accept" askEmail={false} button="Join and sign in" onDone={onDone} />
    </AuthFrame>
  );
}
