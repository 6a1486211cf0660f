// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The one-way import order of DESIGN.md: each layer may import only the layers before it.
 * lib → errors → config → store → {keys, limits, usage, providers, alerts, leaks, telemetry} → {gateway, admin} → http → cli.
 * Domain folders do not import each other; only main.ts and cli/ compose everything.
 */
const LAYERS = [
  ["lib"],
  ["errors"],
  ["config"],
  ["store"],
  ["keys", "limits", "usage", "providers", "alerts", "leaks", "telemetry"],
  ["gateway", "admin"],
  ["http"],
  ["cli"],
];
const ALL = LAYERS.flat();

function forbiddenFor(folder) {
  const level = LAYERS.findIndex((l) => l.includes(folder));
  const later = LAYERS.slice(level + 1).flat();
  const siblings = level === 4 || level === 5 ? LAYERS[level].filter((f) => f !== folder) : [];
  return [...later, ...siblings];
}

const layerRules = ALL.map((folder) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": ["error", {
      patterns: [
        ...forbiddenFor(folder).map((f) => ({
          group: [`**/${f}/*`, `**/${f}/**`],
          message: `src/${folder} may not import src/${f}: imports point one way (DESIGN.md, Layout).`,
        })),
        ...(folder === "cli" ? [] : [{ group: ["../main.js", "../../main.js"], message: "only the CLI starts the composition root" }]),
      ],
    }],
  },
}));

export default tseslint.config(
  { ignores: [".ci/node24/**", "dist/**", "node_modules/**", "console/dist/**", "coverage/**", ".latchkey/**", "test-artifacts/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", fetch: "readonly", AbortController: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", setImmediate: "readonly", performance: "readonly", structuredClone: "readonly", queueMicrotask: "readonly", window: "readonly", document: "readonly", navigator: "readonly", localStorage: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  ...layerRules,
  { files: ["src/cli/**/*.ts", "bench/**", "test/**", "**/*.test.ts", "console/**", "bin/**", "src/main.ts"], rules: { "no-console": "off" } },
  { files: ["test/**", "**/*.test.ts", "bench/**"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
);
