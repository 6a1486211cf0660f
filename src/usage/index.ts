export * from "./report.js";
export * from "./rollup-job.js";
