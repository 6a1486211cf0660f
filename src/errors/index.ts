export * from "./app-error.js";
export * from "./codes.js";
export * from "./dependency.js";
export * from "./render.js";
