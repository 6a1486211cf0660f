import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { KeyService, KeyVerifier, KeyPrefixes } from "../keys/index.js";
import type { Clock } from "../lib/index.js";
import type { OutboundPolicy } from "../lib/outbound.js";
import type { Dispatcher } from "undici";
import type { Store } from "../store/index.js";

/**
 * What management API handlers may use; built once by main.ts. Areas that add services extend
 * this interface by merging (`declare module "./services.js" { interface AdminServices { … } }`)
 * from their own file, and main.ts supplies them.
 */
export interface AdminServices {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  verifier: KeyVerifier;
  keys: KeyService;
  prefixes: KeyPrefixes;
  /** Where user-given URLs may lead (credential base URLs, webhooks), and an agent that holds requests to it. */
  outbound: { policy: OutboundPolicy; agent: Dispatcher };
}
