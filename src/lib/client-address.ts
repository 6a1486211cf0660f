import type { IncomingMessage } from "node:http";
import proxyaddr from "@fastify/proxy-addr";

/** Which peers are proxies whose X-Forwarded-For is believed: none, the nearest n hops, or these ranges. */
export type ProxyTrust = { kind: "none" } | { kind: "hops"; hops: number } | { kind: "cidrs"; cidrs: string[] };

/** (address, hop index) → whether that hop is a trusted proxy; hop 0 is the socket peer. */
export type TrustFn = (addr: string, hop: number) => boolean;

export function compileTrust(t: ProxyTrust): TrustFn | null {
  if (t.kind === "none") return null;
  if (t.kind === "hops") {
    const n = t.hops;
    return (_addr, hop) => hop < n;
  }
  return proxyaddr.compile(t.cidrs);
}

/**
 * The client's address: the socket peer, or, when it is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not a trusted proxy (a client can prepend anything it likes to the
 * left of the header, never to the right of what its first proxy appends). The gateway and the
 * management API both call this, so an allow-list, a limiter and the audit log see the same address.
 */
export function clientAddress(req: IncomingMessage, trust: TrustFn | null): string {
  const ip = trust === null || req.headers["x-forwarded-for"] === undefined ? (req.socket.remoteAddress ?? "") : proxyaddr(req, trust);
  // An IPv4 peer on a dual-stack socket reads ::ffff:a.b.c.d; allow-lists and logs speak plain IPv4.
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}
