import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

/** A tiny history router under /console/: the pages are few and flat, a library would add more than it saves. */
const BASE = "/console";

function current(): { page: string; params: URLSearchParams } {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : window.location.pathname;
  return { page: path.replace(/^\/+|\/+$/g, "") || "overview", params: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function navigate(to: string): void {
  window.history.pushState(null, "", `${BASE}/${to.replace(/^\//, "")}`);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useRoute() {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const l = () => setRoute(current());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return route;
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
    rest.onClick?.(e);
  };
  return <a href={`${BASE}/${to}`} {...rest} onClick={onClick} />;
}
