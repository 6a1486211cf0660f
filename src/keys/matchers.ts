import { BlockList, isIP } from "node:net";

/** Compiles model globs ("claude-*", "gpt-4o") into one test; null means every model. */
export function compileModelGlobs(globs: readonly string[] | null): ((model: string) => boolean) | null {
  if (!globs) return null;
  const exact = new Set(globs.filter((g) => !g.includes("*")));
  const patterns = globs.filter((g) => g.includes("*")).map((g) => new RegExp(`^${g.split("*").map(escapeRegex).join(".*")}$`));
  return (model) => exact.has(model) || patterns.some((p) => p.test(model));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address; null when it is not one. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Compiles an IP allow-list; null means every address. IPv4-mapped IPv6 addresses match IPv4 rules. */
export function compileIpAllowlist(cidrs: readonly string[] | null): ((ip: string) => boolean) | null {
  if (!cidrs) return null;
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  return (ip) => {
    const v4 = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const version = isIP(v4);
    if (version === 0) return false;
    return list.check(v4, version === 4 ? "ipv4" : "ipv6");
  };
}

/** Normalises an origin ("https://App.example.com/" → "https://app.example.com"); null when invalid. */
export function normalizeOrigin(text: string): string | null {
  try {
    const u = new URL(text);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.origin;
  } catch {
    return null;
  }
}
