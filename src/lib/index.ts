export * from "./base62.js";
export * from "./clock.js";
export * from "./hashing.js";
export * from "./ids.js";
export * from "./money.js";
export * from "./canonical-json.js";
export * from "./pem.js";
export * from "./fingerprint.js";
