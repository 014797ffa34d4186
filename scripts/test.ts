// The whole test suite: type check, lint, then every *.test.ts under src/ and test/.
// Ends with "N passed, N failed" so CI can read the outcome from the last line.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import pg from "pg";
import { withDefaultUser } from "../src/storage/postgres.ts";

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith("--"));
const quick = args.includes("--quick");

function step(name: string, command: string, commandArgs: string[]): void {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`\n${name} failed; fix the problems above (the tests did not run).`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  console.log(`${name}: ok (${Date.now() - started} ms)`);
}

if (!quick && only.length === 0) {
  step("type check", process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"]);
  step("type check (dashboard)", process.execPath, [
    "node_modules/typescript/bin/tsc",
    "-p",
    "web/tsconfig.json",
  ]);
  step("type check (browser tests)", process.execPath, [
    "node_modules/typescript/bin/tsc",
    "-p",
    "tsconfig.browser.json",
  ]);
  step("lint", process.execPath, ["node_modules/@biomejs/biome/bin/biome", "check", "."]);
  step("layers", process.execPath, ["scripts/check-layers.ts"]);
  step("connector docs", process.execPath, ["scripts/connector-docs.ts", "--check"]);
}

// The browser tests and `cqa serve` use the built dashboard: build it when web/ changed (a second or two).
step("dashboard build", process.execPath, ["scripts/build-dashboard.ts", "--if-stale"]);

await choosePostgres();

let passed = 0;
let failed = 0;
const stream = run({
  globPatterns: only.length > 0 ? only : ["src/**/*.test.ts", "test/**/*.test.ts"],
  concurrency: Math.max(2, availableParallelism()),
  timeout: 10 * 60_000,
});
stream.on("test:pass", (event) => {
  if (event.details.type !== "suite") passed++;
});
stream.on("test:fail", (event) => {
  if (event.details.type !== "suite") failed++;
});
stream.compose(spec).pipe(process.stdout);
await new Promise<void>((resolve) => stream.on("end", resolve));
process.exitCode = failed > 0 ? 1 : 0;
console.log(`${passed} passed, ${failed} failed`);

/**
 * Storage suites run on PGlite always and on PostgreSQL when one is reachable: CQA_TEST_DATABASE_URL,
 * or the local server at postgres://127.0.0.1:5432/test. CQA_REQUIRE_POSTGRES=1 (CI) makes a
 * missing server an error instead of a skip.
 */
async function choosePostgres(): Promise<void> {
  const url = process.env["CQA_TEST_DATABASE_URL"] ?? "postgres://127.0.0.1:5432/test";
  const client = new pg.Client({ connectionString: withDefaultUser(url), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    process.env["CQA_TEST_DATABASE_URL"] = url;
    console.log(`PostgreSQL suites: on, using ${url}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env["CQA_REQUIRE_POSTGRES"] === "1") {
      console.error(`PostgreSQL at ${url} is required (CQA_REQUIRE_POSTGRES=1) but not reachable: ${reason}`);
      console.log("0 passed, 1 failed");
      process.exit(1);
    }
    delete process.env["CQA_TEST_DATABASE_URL"];
    console.log(
      `PostgreSQL suites: skipped, ${url} not reachable (${reason}); set CQA_TEST_DATABASE_URL to run them`,
    );
  }
}
