/**
 * The deployment files, checked without Docker, Kubernetes or systemd (none runs here): the
 * Dockerfile's stages and the files they copy exist, it runs as non-root with a health check; the
 * compose file and the Helm chart parse, and every setting they pass is one Latchkey knows and
 * accepts; the README lists every setting.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig, unknownEnvironment } from "../src/config/index.js";
import { envName } from "../src/config/load.js";
import { configSchema } from "../src/config/schema.js";

const ROOT = join(import.meta.dirname, "..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

describe("deployment files", () => {
  it("Dockerfile: multi-stage, copies files that exist or that the build stage makes, non-root, health check on /healthz", () => {
    const text = read("Dockerfile");
    const stages = [...text.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    expect(stages).toEqual(["build", "runtime"]);
    for (const m of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const parts = m[1]!.trim().split(/\s+/);
      for (const src of parts.slice(0, -1)) expect(existsSync(join(ROOT, src)), src).toBe(true);
    }
    // What the runtime takes from the build stage is what `npm run build` writes.
    const build = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    expect(build.scripts.build).toContain("tsc -p tsconfig.json");
    expect(read("tsconfig.json")).toMatch(/"outDir":\s*"dist"/);
    expect(read("console/vite.config.ts")).toMatch(/outDir:\s*"dist"/);
    for (const m of text.matchAll(/^COPY --from=(\S+) (\S+)/gm)) expect(stages).toContain(m[1]);
    const runtime = text.slice(text.indexOf("AS runtime"));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(runtime).toMatch(/LATCHKEY_HOST=0\.0\.0\.0/);
    expect(read(".dockerignore")).toMatch(/^node_modules$/m);
  });

  it("compose: PostgreSQL, Redis, two nodes on a read-only root and a load balancer; every setting known and valid", () => {
    const doc = parse(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, any> };
    expect(Object.keys(doc.services).sort()).toEqual(["lb", "node1", "node2", "postgres", "redis"]);
    for (const n of ["node1", "node2"]) {
      const s = doc.services[n];
      expect(s.read_only).toBe(true);
      const env = Object.fromEntries(Object.entries(s.environment as Record<string, string>)
        .map(([k, v]) => [k, String(v).replace(/\$\{LATCHKEY_MASTER_KEY[^}]*\}/, "11".repeat(32))]));
      expect(unknownEnvironment(env)).toEqual([]);
      const config = loadConfig({ env });
      expect(config.databaseUrl).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(config.redisUrl).toBe("redis://redis:6379");
      expect(config.nodeCount).toBe(2);
    }
    const nginx = read("deploy/nginx.conf");
    for (const n of ["node1:8420", "node2:8420"]) expect(nginx).toContain(n);
    expect(nginx).toMatch(/proxy_buffering off/);
    expect(doc.services.lb.volumes[0]).toMatch(/^\.\/nginx\.conf:/);
  });

  it("Helm chart: every file parses once the template tags are set aside, probes and security settings are there, env names are known", () => {
    const chart = join(ROOT, "deploy/helm/latchkey");
    expect(parse(readFileSync(join(chart, "Chart.yaml"), "utf8"))).toMatchObject({ apiVersion: "v2", name: "latchkey" });
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as { env: Record<string, string>; existingSecret: string };
    expect(unknownEnvironment(values.env)).toEqual([]);
    expect(() => loadConfig({ env: { ...values.env, LATCHKEY_PUBLIC_URL: "https://keys.example.com" } })).not.toThrow();
    const deployment = readFileSync(join(chart, "templates/deployment.yaml"), "utf8");
    // Each {{ … }} replaced by a placeholder scalar: the structure around the tags must be valid YAML.
    for (const f of readdirSync(join(chart, "templates")).filter((f) => f.endsWith(".yaml"))) {
      const text = readFileSync(join(chart, "templates", f), "utf8").replace(/^\s*\{\{-[^}]*\}\}\s*$/gm, "").replace(/\{\{-?[^}]*\}\}/g, "x");
      for (const d of parseAllDocuments(text)) expect(d.errors, f).toEqual([]);
    }
    const envNames = [...deployment.matchAll(/- name: (LATCHKEY_[A-Z_]+)/g)].map((m) => m[1]!);
    expect(unknownEnvironment(Object.fromEntries(envNames.map((n) => [n, "x"])))).toEqual([]);
    expect(deployment).toMatch(/readOnlyRootFilesystem: true/);
    expect(deployment).toMatch(/runAsNonRoot: true/);
    expect(deployment).toMatch(/path: \/healthz/);
    expect(deployment).toMatch(/path: \/readyz/);
  });

  it("systemd unit starts latchkey up as its own user with a private data directory", () => {
    const unit = read("deploy/systemd/latchkey.service");
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node .*bin\/latchkey\.js up$/m);
    expect(unit).toMatch(/^User=latchkey$/m);
    expect(unit).toMatch(/^Environment=LATCHKEY_DATA_DIR=\/var\/lib\/latchkey$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
  });

  it("the README lists every setting, and the config file example it shows loads", () => {
    const readme = read("README.md");
    const otel: Record<string, string> = { otelExporterOtlpEndpoint: "OTEL_EXPORTER_OTLP_ENDPOINT", otelExporterOtlpTracesEndpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", otelTracesExporter: "OTEL_TRACES_EXPORTER", otelServiceName: "OTEL_SERVICE_NAME" };
    const missing = Object.keys(configSchema.shape).map((k) => otel[k] ?? envName(k))
      .filter((name) => !readme.includes(name) && !readme.includes(`…_${name.split("_").pop()}`));
    expect(missing).toEqual([]);
    for (const name of ["LATCHKEY_CONFIG", "LATCHKEY_CLI_CONFIG"]) expect(readme).toContain(name);
    const example = /```json\n(\{ "port".*\})\n```/.exec(readme)![1]!;
    const dir = mkdtempSync(join(tmpdir(), "latchkey-config-"));
    try {
      writeFileSync(join(dir, "c.json"), example);
      const config = loadConfig({ env: {}, file: join(dir, "c.json") });
      expect(config.databaseUrl).toBe("postgres://latchkey@db/latchkey");
      expect(config.usageRetentionDays).toBe(30);
      expect(config.trustProxy).not.toEqual({ kind: "none" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
