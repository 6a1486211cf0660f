export * from "./alert-service.js";
export * from "./dispatcher.js";
export * from "./periods.js";
export * from "./signature.js";
export * from "./webhooks.js";
