export * from "./types.js";
export * from "./registry.js";
export * from "./catalog.js";
export * from "./bounds.js";
export * from "./usage-meter.js";
export { createSimulatorServer, handleSimulated, type SimulatorServer, type SimulatorOptions } from "./simulator/server.js";
export { openaiPrefix } from "./openai/index.js";
export * from "./credential-vault.js";
export { simulator } from "./simulator/index.js";
