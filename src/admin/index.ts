import { alertRoutes } from "./alerts-routes.js";
import { auditRoutes } from "./audit-routes.js";
import { creditRoutes } from "./credits-routes.js";
import { credentialRoutes } from "./credentials-routes.js";
import { metricsRoute } from "./metrics-route.js";
import { modelImportRoute } from "./models-import.js";
import { modelRoutes } from "./models-routes.js";
import { keyRoutes } from "./keys-routes.js";
import { leakRoutes } from "./leaks-routes.js";
import { orgRoutes } from "./org-routes.js";
import type { RouteDef } from "./route.js";
import { usageRoutes } from "./usage-routes.js";
import { userRoutes } from "./users.js";

export * from "./audit.js";
export * from "./authorize.js";
export * from "./ceiling.js";
export * from "./policy.js";
export * from "./bootstrap.js";
export * from "./present.js";
export * from "./route.js";
export * from "./schemas.js";
export * from "./services.js";
export * from "./settings-changes.js";
export * from "./users.js";

/** Every management API route; areas add their list here. */
export const ROUTES: RouteDef[] = [...orgRoutes, ...keyRoutes, ...auditRoutes, ...leakRoutes, ...userRoutes, ...usageRoutes, ...creditRoutes, ...alertRoutes, ...credentialRoutes, ...modelRoutes, modelImportRoute, metricsRoute];
