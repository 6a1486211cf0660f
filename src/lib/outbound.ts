import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";

/**
 * Ranges Latchkey does not connect to on a user's say-so (a credential's base URL, a webhook):
 * loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254 and
 * fd00:ec2::254), documentation, benchmarking, multicast and reserved space, and the IPv6 forms
 * that carry an IPv4 address inside (mapped, compatible, NAT64, 6to4), so none of them is a way
 * round the IPv4 list.
 */
const REFUSED_V4 = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
  "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
  "224.0.0.0/4", "240.0.0.0/4",
];
const REFUSED_V6 = [
  "::/96", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
  "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
];

/** A connection refused by the outbound address policy (the message names no address). */
export class OutboundAddressError extends Error {
  override name = "OutboundAddressError";
  readonly code = "LATCHKEY_ADDRESS_REFUSED";
  constructor() {
    super("the address is in a range Latchkey does not connect to");
  }
}

function addRange(lists: { ipv4: BlockList; ipv6: BlockList }, cidr: string): void {
  const [net, bits] = cidr.split("/");
  const family = isIP(net!) === 6 ? "ipv6" : "ipv4";
  if (bits === undefined) lists[family].addAddress(net!, family);
  else lists[family].addSubnet(net!, Number(bits), family);
}

/**
 * Checks a CIDR list as LATCHKEY_ALLOW_PRIVATE_UPSTREAMS takes it ("10.0.0.0/8, 127.0.0.1, ::1/128");
 * returns the problem, or null when every entry is an address or a subnet.
 */
export function cidrListProblem(cidrs: readonly string[]): string | null {
  for (const c of cidrs) {
    const [net, bits, extra] = c.split("/");
    const family = isIP(net ?? "");
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      return `'${c}' is not an IP address or CIDR range`;
    }
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part allowed), or null. */
function groups6(address: string): number[] | null {
  let a = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = a.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(0, fill)).fill("0"), ...tail];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d, in any spelling), else the address as given. */
function unmapped(address: string): string {
  if (isIP(address) !== 6) return address;
  const g = groups6(address);
  if (!g || g.slice(0, 5).some((x) => x !== 0) || g[5] !== 0xffff) return address;
  return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
}

/**
 * Which addresses Latchkey may connect to on a user's say-so, and the means to hold every such
 * connection to it: a DNS lookup that refuses a name resolving into a refused range, a connector
 * that refuses an address literal before connecting and checks the address a socket actually
 * reached. The address the lookup returned is the one connected to, so a name cannot resolve to a
 * public address when checked and a private one when used (DNS rebinding). `allow` is the
 * operator's exception list (a local vLLM or Ollama, an internal proxy).
 */
export class OutboundPolicy {
  // One list per family: Node's BlockList matches IPv4 addresses against IPv6 rules as mapped
  // addresses, which made ::ffff:0:0/96 refuse every IPv4 address.
  private readonly refused = { ipv4: new BlockList(), ipv6: new BlockList() };
  private readonly allowed = { ipv4: new BlockList(), ipv6: new BlockList() };

  private readonly resolve: typeof dnsLookup;

  /** `resolve` stands in for dns.lookup (tests give a resolver whose answers change, as a rebinding name's do). */
  constructor(allow: readonly string[] = [], options: { resolve?: typeof dnsLookup } = {}) {
    this.resolve = options.resolve ?? dnsLookup;
    for (const c of [...REFUSED_V4, ...REFUSED_V6]) addRange(this.refused, c);
    for (const c of allow) addRange(this.allowed, unmapped(c));
  }

  /** Whether an address (IPv4 or IPv6, brackets and zone allowed) may be connected to. */
  allows(address: string): boolean {
    const bare = unmapped(address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
    const family = isIP(bare);
    if (family === 0) return false;
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.allowed[type].check(bare, type)) return true;
    return !this.refused[type].check(bare, type);
  }

  /** A dns.lookup that fails when any address a name resolves to is refused (net.connect's `lookup`). */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      if (addresses.length === 0 || addresses.some((a) => !this.allows(a.address))) return callback(new OutboundAddressError(), "", 0);
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  /** An undici connector that connects only to allowed addresses (pass as a Pool's or Agent's `connect`). */
  connector(options: { timeout?: number } = {}): buildConnector.connector {
    const base = buildConnector({ timeout: options.timeout ?? 10_000, lookup: this.lookup });
    return (opts, callback) => {
      const host = opts.hostname.replace(/^\[|\]$/g, "");
      if (isIP(host) && !this.allows(host)) {
        process.nextTick(callback, new OutboundAddressError(), null);
        return;
      }
      base(opts, (err, socket) => {
        if (err) return callback(err, null);
        // The address the socket reached, not the one asked for: the last word on where it went.
        if (!socket!.remoteAddress || !this.allows(socket!.remoteAddress)) {
          socket!.destroy();
          return callback(new OutboundAddressError(), null);
        }
        callback(null, socket!);
      });
    };
  }

  /**
   * Whether a URL a user gives (a base URL, a webhook) points where Latchkey will not connect: an
   * address literal in a refused range, or a name that resolves into one now. A name that does not
   * resolve is not refused here (it may later); the connection is checked again either way.
   */
  async refusesUrl(url: string, timeoutMs = 2000): Promise<boolean> {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    } catch {
      return false;
    }
    if (isIP(host)) return !this.allows(host);
    const addresses = await new Promise<LookupAddress[]>((resolve) => {
      const timer = setTimeout(() => resolve([]), timeoutMs);
      this.resolve(host, { all: true }, (err, found) => {
        clearTimeout(timer);
        resolve(err ? [] : found);
      });
    });
    return addresses.some((a) => !this.allows(a.address));
  }

  /** An undici Agent for one-off requests (probes, webhooks) under this policy. */
  agent(options: { timeout?: number } = {}): Dispatcher {
    return new Agent({ connect: this.connector(options) });
  }
}
