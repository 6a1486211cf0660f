import type { RouteDef } from "./route.js";
import { sessionRoutes } from "./sessions-routes.js";
import { userRoutes as peopleRoutes } from "./users-routes.js";

export { sessionAuthenticator, SESSION_COOKIE } from "./sessions.js";
export { ensureOwnerSetupLink } from "./users-setup.js";
export { hashPassword, verifyPassword } from "./users-passwords.js";
export { ROLE_SCOPES, principalForUser } from "./users-roles.js";

/** Console people and sessions: sign-in, setup, invitations, users. */
export const userRoutes: RouteDef[] = [...sessionRoutes, ...peopleRoutes];
