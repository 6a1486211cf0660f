export * from "./console.js";
export * from "./management.js";
export * from "./openapi.js";
export * from "./server.js";
export * from "./validation.js";
