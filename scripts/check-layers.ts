// Dependencies point inward. Each folder under src/ may import only the folders listed for it;
// this check fails the lint step when an import crosses a boundary the wrong way.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const allowed: Record<string, string[]> = {
  core: [],
  validation: ["core"],
  config: ["core", "validation"],
  security: ["core"],
  net: ["core"],
  // Decoding recordings (in-process WAV, ffmpeg for the rest): spawns processes, knows no domain rules.
  media: ["core"],
  storage: ["core", "security"],
  analysis: ["core", "validation"],
  routing: ["core", "validation"],
  // Speech and language engines (PocketSphinx, OpenAI-compatible servers): processes and HTTP peers.
  engines: ["core", "validation", "media", "analysis"],
  tenancy: ["core", "validation", "storage", "security", "analysis"],
  // The SFTP endpoint (ssh2): logins and each account's inbox; knows no integrations.
  sftp: ["core", "storage", "security"],
  // analysis: the analysis detail document connectors write back (an S3 output folder).
  connectors: ["core", "validation", "storage", "security", "net", "ingest", "analysis"],
  ingest: ["core", "validation", "storage", "net", "analysis"],
  delivery: ["core", "validation", "storage", "net", "security"],
  pipeline: [
    "core",
    "validation",
    "storage",
    "net",
    "analysis",
    "routing",
    "ingest",
    "delivery",
    "media",
    "engines",
  ],
  api: [
    "core",
    "validation",
    "config",
    "security",
    "net",
    "storage",
    "analysis",
    "routing",
    "ingest",
    "delivery",
    "media",
    "engines",
    "pipeline",
    "tenancy",
    "connectors",
    "sftp",
  ],
  server: [
    "core",
    "validation",
    "config",
    "security",
    "net",
    "storage",
    "analysis",
    "routing",
    "ingest",
    "delivery",
    "media",
    "engines",
    "pipeline",
    "tenancy",
    "connectors",
    "sftp",
    "api",
  ],
  cli: [
    "core",
    "validation",
    "config",
    "security",
    "net",
    "storage",
    "analysis",
    "routing",
    "ingest",
    "delivery",
    "media",
    "engines",
    "pipeline",
    "tenancy",
    "connectors",
    "sftp",
    "api",
    "server",
  ],
};

const srcDir = resolve("src");
const problems: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

for (const file of walk(srcDir)) {
  const layer = relative(srcDir, file).split(sep)[0]!;
  const rules = allowed[layer];
  if (!rules) {
    problems.push(`${relative(".", file)}: folder src/${layer} is not declared in scripts/check-layers.ts`);
    continue;
  }
  const isTest = file.endsWith(".test.ts") || file.endsWith("testing.ts");
  const source = readFileSync(file, "utf8");
  for (const match of source.matchAll(/(?:import|export)[^'"]*?from\s+["'](\.[^"']+)["']/g)) {
    const target = resolve(file, "..", match[1]!);
    const targetLayer = relative(srcDir, target).split(sep)[0]!;
    if (targetLayer === layer || targetLayer.startsWith("..")) continue;
    // Tests may reach further in to build their fixtures, but never into the HTTP layer from below it.
    if (isTest && targetLayer !== "api") continue;
    if (!rules.includes(targetLayer)) {
      problems.push(
        `${relative(".", file)} imports src/${targetLayer} (${match[1]}), which src/${layer} may not use`,
      );
    }
  }
}

if (problems.length > 0) {
  console.error(`Layer check: ${problems.length} import(s) point the wrong way:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
