export * from "./report.js";
export * from "./rollup-job.js";
export * from "./metrics.js";
