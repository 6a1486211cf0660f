import { useEffect, useId, useRef, type ReactNode, type InputHTMLAttributes, type SelectHTMLAttributes } from "react";
import { ApiError } from "./api";

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => void (document.title = `${title} · Latchkey`), [title]);
  return (
    <section className="page">
      <header className="page-head"><h1>{title}</h1>{actions && <div className="actions">{actions}</div>}</header>
      {children}
    </section>
  );
}

export function Card({ title, children, actions }: { title?: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="card">
      {(title || actions) && <div className="card-head">{title && <h2>{title}</h2>}{actions}</div>}
      {children}
    </div>
  );
}

export function Field({ label, hint, ...input }: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && <small id={`${id}-hint`}>{hint}</small>}
    </div>
  );
}

export function TextArea({ label, hint, value, onChange, rows = 2 }: { label: string; hint?: string; value: string; onChange: (v: string) => void; rows?: number }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={rows} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && <small id={`${id}-hint`}>{hint}</small>}
    </div>
  );
}

export function Select({ label, options, ...rest }: { label: string; options: Array<[string, string]> } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...rest}>{options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>
    </div>
  );
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return <p className="error" role="alert">{message}</p>;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><strong>{title}</strong>{children && <div>{children}</div>}</div>;
}

export function NotAvailable({ what }: { what: string }) {
  return <Empty title={`${what} is not available on this server`}>This Latchkey server does not offer it yet. Update the server, then reload this page.</Empty>;
}

/** Loading, error, "not on this server", or the content. */
export function Loaded<T>({ q, what, children }: { q: { data?: T; error: unknown; isLoading: boolean }; what: string; children: (data: T) => ReactNode }) {
  if (q.isLoading) return <p className="muted">Loading…</p>;
  if (q.error instanceof ApiError && q.error.notAvailable) return <NotAvailable what={what} />;
  if (q.error) return <ErrorText error={q.error} />;
  return <>{q.data !== undefined ? children(q.data) : null}</>;
}

export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} className={wide ? "wide" : undefined} aria-label={title} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <div className="dialog-head"><h2>{title}</h2><button type="button" className="ghost" aria-label="Close" onClick={onClose}>✕</button></div>
      {children}
    </dialog>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "good" | "bad" | "warn" | "neutral"; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function statusTone(status: string): "good" | "bad" | "warn" | "neutral" {
  return status === "active" ? "good" : status === "revoked" ? "bad" : status === "disabled" || status === "expired" ? "warn" : "neutral";
}

export function Stat({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return <div className="stat"><span className="stat-label">{label}</span><span className="stat-value">{value}</span>{sub && <span className="stat-sub">{sub}</span>}</div>;
}
