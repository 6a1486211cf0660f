export { deploymentsFor, servingEntry, type Deployment } from "./deployments.js";
export { DeploymentHealth } from "./health.js";
export { CredentialLinks } from "./links.js";
export { matchesModel, matchesPattern } from "./match.js";
