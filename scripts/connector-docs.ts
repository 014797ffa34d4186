// Writes each connector kind's config reference (generated from its validating schema) into its page
// under docs/integrations/, between `<!-- config-reference:start kind=… -->` and `<!-- config-reference:end -->`.
// `--check` only reports pages that are out of date (the test suite runs it).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtInConnectors } from "../src/connectors/builtIn.ts";
import { configReferenceMarkdown } from "../src/connectors/configReference.ts";
import { createConnectorRegistry } from "../src/connectors/registry.ts";

const check = process.argv.includes("--check");
const registry = createConnectorRegistry(builtInConnectors);
const dir = "docs/integrations";
const stale: string[] = [];
const documented = new Set<string>();
// Markers on lines of their own (a marker quoted inside prose is left alone).
const marker = /^<!-- config-reference:start kind=([a-z0-9_]+) -->$[\s\S]*?^<!-- config-reference:end -->$/gm;

for (const file of readdirSync(dir).filter((f) => f.endsWith(".md"))) {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  const updated = text.replace(marker, (_whole, kind: string) => {
    documented.add(kind);
    const definition = registry.get(kind);
    const entry = registry.catalogue().find((e) => e.kind === kind);
    const body =
      definition && entry
        ? configReferenceMarkdown(definition, entry)
        : `Kind \`${kind}\` is not registered.`;
    return `<!-- config-reference:start kind=${kind} -->\n${body}\n<!-- config-reference:end -->`;
  });
  if (updated !== text) {
    stale.push(path);
    if (!check) writeFileSync(path, updated);
  }
}
const undocumented = registry
  .list()
  .filter((d) => !documented.has(d.kind))
  .map((d) => d.kind);
if (undocumented.length > 0) {
  console.error(`No page in docs/integrations/ has a config reference for: ${undocumented.join(", ")}`);
  process.exitCode = 1;
}
if (check && stale.length > 0) {
  console.error(`Config references out of date in ${stale.join(", ")}: run 'npm run docs'`);
  process.exitCode = 1;
} else if (!check) {
  console.log(stale.length > 0 ? `Updated ${stale.join(", ")}` : "Config references are up to date");
}
