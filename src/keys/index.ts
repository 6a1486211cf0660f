export * from "./actor.js";
export * from "./format.js";
export * from "./hash.js";
export * from "./matchers.js";
export * from "./scopes.js";
export * from "./service.js";
export * from "./verify.js";
export * from "./auth-failures.js";
