export * from "./console.js";
export * from "./management.js";
export * from "./openapi.js";
export * from "./server.js";
export * from "./validation.js";
export { bindServer, TlsSetupError } from "./listen.js";
export type { HealthProbes } from "./health.js";
export type { ManagementObserver } from "./access-log.js";
export { serveMetrics } from "./metrics-listener.js";
