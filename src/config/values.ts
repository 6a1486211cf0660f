import proxyaddr from "@fastify/proxy-addr";
import { z } from "zod";
import type { ProxyTrust } from "../lib/index.js";
import { cidrListProblem } from "../lib/outbound.js";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * A yes/no setting, strict: exactly true|false|1|0|yes|no|on|off (any case). Anything else is a
 * start-up error naming the setting; `z.coerce.boolean` read "false" as true.
 */
export const flag = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  ctx.addIssue({ code: "custom", message: `'${v}' is not a yes/no value; use true|false|1|0|yes|no|on|off` });
  return z.NEVER;
});


/**
 * LATCHKEY_TRUST_PROXY: off (false, 0, no, off; the default), a hop count (1, 2…), or a comma-separated
 * list of proxy addresses and CIDRs (also proxy-addr's names loopback, linklocal, uniquelocal).
 * "true" is refused: trusting every hop lets any client write its own address.
 */
export const proxyTrust = z.union([z.boolean(), z.number(), z.string(), z.array(z.string())]).transform((v, ctx): ProxyTrust => {
  if (v === false) return { kind: "none" };
  const s = Array.isArray(v) ? v.join(",") : String(v).trim();
  if (FALSE.has(s.toLowerCase()) || s === "") return { kind: "none" };
  if (/^\d+$/.test(s)) return { kind: "hops", hops: Number(s) };
  if (TRUE.has(s.toLowerCase())) {
    ctx.addIssue({ code: "custom", message: "trusting every proxy hop lets any client choose its address; give the number of proxies in front (e.g. 1) or their CIDRs (e.g. 10.0.0.0/8)" });
    return z.NEVER;
  }
  const cidrs = s.split(",").map((c) => c.trim()).filter(Boolean);
  try {
    proxyaddr.compile(cidrs);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `not a list of proxy addresses or CIDRs: ${(err as Error).message}` });
    return z.NEVER;
  }
  return { kind: "cidrs", cidrs };
});

/** A comma-separated list of IP addresses and CIDR ranges (or a JSON array of them in the config file). */
export const cidrList = z.union([z.string(), z.array(z.string())]).transform((v, ctx): string[] => {
  const list = (Array.isArray(v) ? v : v.split(",")).map((c) => c.trim()).filter(Boolean);
  const problem = cidrListProblem(list);
  if (problem) {
    ctx.addIssue({ code: "custom", message: `${problem}; give addresses and ranges separated by commas, e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8` });
    return z.NEVER;
  }
  return list;
});
