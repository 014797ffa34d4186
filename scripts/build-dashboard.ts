// npm run build — builds the web dashboard (web/, React + Vite) into dist/dashboard, which `cqa serve`
// serves. `--if-stale` builds only when web/ (or the tools that build it) changed since the last build:
// `npm start` and `npm test` call it that way, so a fresh checkout builds once and then not again.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { dashboardViteConfig, webDir } from "./dashboardVite.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = join(root, "dist", "dashboard");
const stampFile = ".source-hash";

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

/** A fingerprint of everything the bundle is made from: sources, build config, tool versions. */
export function dashboardSourceHash(): string {
  const hash = createHash("sha256");
  const inputs = [
    ...filesUnder(webDir),
    join(root, "scripts", "dashboardVite.ts"),
    join(root, "scripts", "build-dashboard.ts"),
  ];
  for (const file of inputs) {
    hash.update(relative(root, file)).update("\u0000").update(readFileSync(file)).update("\u0000");
  }
  for (const tool of ["vite", "react", "react-dom", "@vitejs/plugin-react"]) {
    const manifest = join(root, "node_modules", tool, "package.json");
    if (existsSync(manifest)) hash.update(`${tool}@${JSON.parse(readFileSync(manifest, "utf8")).version}`);
  }
  return hash.digest("hex");
}

/** Whether dist/dashboard holds a build of the current sources. */
export function dashboardIsFresh(): boolean {
  const stamp = join(outDir, stampFile);
  return (
    existsSync(join(outDir, "index.html")) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === dashboardSourceHash()
  );
}

/** Builds into a fresh directory and swaps it in, so a running cqa never serves half a build. */
export async function buildDashboard(): Promise<{ files: number; gzippedBytes: number; ms: number }> {
  const started = performance.now();
  const sourceHash = dashboardSourceHash();
  const staging = join(root, "dist", `.dashboard-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  await build(dashboardViteConfig(staging));
  let gzippedBytes = 0;
  const files = filesUnder(staging);
  for (const file of files) {
    if (!/\.(js|css|svg|html|json)$/.test(file)) continue;
    const gzipped = gzipSync(readFileSync(file), { level: 9 });
    writeFileSync(`${file}.gz`, gzipped);
    if (file.endsWith(".js")) gzippedBytes += gzipped.length;
  }
  writeFileSync(join(staging, stampFile), `${sourceHash}\n`);
  const previous = join(root, "dist", `.dashboard-old-${process.pid}`);
  if (existsSync(outDir)) renameSync(outDir, previous);
  renameSync(staging, outDir);
  rmSync(previous, { recursive: true, force: true });
  return { files: files.length, gzippedBytes, ms: performance.now() - started };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ifStale = process.argv.includes("--if-stale");
  if (ifStale && dashboardIsFresh()) {
    process.stdout.write("dashboard: up to date (dist/dashboard)\n");
  } else {
    const result = await buildDashboard();
    process.stdout.write(
      `dashboard: built dist/dashboard in ${(result.ms / 1000).toFixed(1)} s ` +
        `(${result.files} files, ${(result.gzippedBytes / 1024).toFixed(0)} KB of JavaScript gzipped)\n`,
    );
  }
}
