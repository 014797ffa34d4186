// npm run bench — ingest throughput of cqa (single and batch endpoints, PGlite and PostgreSQL) as
// a ratio against a bare Hono route measured in the same run on the same machine, written to
// docs/benchmarks.md. Figures are reported, never asserted: a slow machine gives smaller numbers,
// not a failure.
import { randomBytes } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { withDefaultUser } from "../src/storage/postgres.ts";
import { analysisBlock, analysisSection, measureAnalysis } from "./analysis.ts";
import { dashboardBlock, dashboardSection, measureDashboard } from "./dashboard.ts";
import { ecc4xBlock, ecc4xSection, measureEcc4x } from "./ecc4x.ts";
import { kafkaBlock, kafkaSection, measureKafka } from "./kafka.ts";
import { type Endpoint, measureLoad } from "./load.ts";
import {
  aimVerdict,
  type BenchRow,
  consoleTable,
  describeMachine,
  figuresSection,
  type GeneratedBlock,
  ingestBlock,
  writeGeneratedBlock,
} from "./report.ts";
import { measureS3, s3Block, s3Section } from "./s3.ts";
import { type CqaTarget, probePostgres, type ServerChild, startBareServer, startCqa } from "./servers.ts";

const usage = `npm run bench [-- options]

  --quick               short smoke run (1 s warm-up, 3 s per row); does not rewrite the docs
  --only pglite|postgres  measure cqa on one database only (the bare reference always runs)
  --only dashboard      measure only the dashboard (analysis list bundle size and time to 50 rows)
  --only analysis       measure only the analysis engine (audio measures, transcription, spotting, scoring)
  --only kafka          measure only the ECC6x Kafka path (throughput vs a bare consume loop, latency to feedback)
  --only s3             measure only the S3 connector (listing to ingested vs a bare list + get loop, S3Proxy)
  --only ecc4x          measure only ECC4x: VLA report rows/s from the SFTP inbox to ingested (vs the batch
                        endpoint), SFTP upload MiB/s (vs OpenSSH's server if installed, and a bare ssh2 server)
  --kafka-rate N        kafka: steady events/s of the latency rows (default 200)
  --loads N             dashboard: page loads measured (default 5; 2 with --quick)
  --sshd PATH           ecc4x: the OpenSSH server to compare uploads with (default /usr/sbin/sshd, if installed)
  --duration N          seconds measured per row (default 10)
  --warmup N            seconds of warm-up per row (default 2)
  --connections N       concurrent connections (default 16)
  --batch-size N        interactions per batch request (default 100)
  --database-url URL    PostgreSQL to use (default $BENCH_DATABASE_URL or postgres://127.0.0.1:5432/test)
  --no-write            print only; do not rewrite docs/benchmarks.md
  --write               rewrite docs/benchmarks.md even for --quick / --only runs
`;

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const docsPath = join(repoRoot, "docs", "benchmarks.md");
const ingestPath = (accountId: string, endpoint: Endpoint) =>
  `/api/v1/accounts/${accountId}/ingress/interactions${endpoint === "batch" ? "/batch" : ""}`;

const sectionNames = ["dashboard", "analysis", "kafka", "s3", "ecc4x"] as const;
type SectionName = (typeof sectionNames)[number];
const onlyChoices = ["pglite", "postgres", ...sectionNames] as const;

interface Settings {
  quick: boolean;
  only: (typeof onlyChoices)[number] | null;
  kafkaRate: number;
  loads: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  batchSize: number;
  databaseUrl: string;
  sshd: string;
  write: boolean;
}

function readSettings(argv: string[]): Settings | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      quick: { type: "boolean" },
      only: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "batch-size": { type: "string" },
      loads: { type: "string" },
      "kafka-rate": { type: "string" },
      "database-url": { type: "string" },
      sshd: { type: "string" },
      write: { type: "boolean" },
      "no-write": { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return null;
  }
  const only = onlyChoices.find((choice) => choice === values.only) ?? null;
  if (values.only !== undefined && only === null) {
    throw new Error(`--only takes ${onlyChoices.join(", ")}, not '${values.only}'`);
  }
  const quick = values.quick ?? false;
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} takes a whole number ≥ ${min}`);
    return parsed;
  };
  const partial = quick || only !== null;
  return {
    quick,
    only,
    durationSeconds: number("duration", values.duration, quick ? 3 : 10, 1),
    warmupSeconds: number("warmup", values.warmup, quick ? 1 : 2, 0),
    connections: number("connections", values.connections, 16, 1),
    batchSize: number("batch-size", values["batch-size"], 100, 1),
    loads: number("loads", values.loads, quick ? 2 : 5, 1),
    kafkaRate: number("kafka-rate", values["kafka-rate"], 200, 1),
    databaseUrl:
      values["database-url"] ?? process.env["BENCH_DATABASE_URL"] ?? "postgres://127.0.0.1:5432/test",
    sshd: values.sshd ?? "/usr/sbin/sshd",
    write: values["no-write"] ? false : (values.write ?? !partial),
  };
}

interface Scenario {
  label: string;
  endpoint: Endpoint;
  /** null: the bare Hono reference. */
  target: CqaTarget | null;
  /** Why this row is not measured, if it is not. */
  skip?: string;
}

/** The rows of the run, in the order they run and are shown. */
function scenarios(settings: Settings, postgresUnreachable: string | null): Scenario[] {
  const endpoints: Endpoint[] = ["single", "batch"];
  const name = (endpoint: Endpoint) => (endpoint === "single" ? "single" : `batch of ${settings.batchSize}`);
  // The reference runs first and last; the ratio uses the mean, so drift during the run shows.
  const bare = (when: string) =>
    endpoints.map((endpoint) => ({
      label: `bare Hono route, ${name(endpoint)} (${when})`,
      endpoint,
      target: null,
    }));
  const pglite = endpoints.map((endpoint) => ({
    label: `cqa PGlite, ${name(endpoint)}`,
    endpoint,
    target: { database: "pglite", role: "all" } as const,
  }));
  const postgres = (["all", "api"] as const).flatMap((role) =>
    endpoints.map((endpoint) => ({
      label: `cqa PostgreSQL${role === "api" ? " (CQA_ROLE=api, ingest only)" : ""}, ${name(endpoint)}`,
      endpoint,
      target: { database: "postgres", role, url: settings.databaseUrl } as const,
    })),
  );
  const run: Scenario[] = bare("first");
  if (settings.only !== "postgres") run.push(...pglite);
  if (settings.only !== "pglite") {
    run.push(...postgres.map((s) => (postgresUnreachable ? { ...s, skip: "PostgreSQL unreachable" } : s)));
  }
  run.push(...bare("last"));
  return run;
}

async function measureScenario(scenario: Scenario, settings: Settings): Promise<BenchRow> {
  const itemsPerRequest = scenario.endpoint === "batch" ? settings.batchSize : 1;
  const idPrefix = `bench-${randomBytes(4).toString("hex")}`;
  const load = {
    endpoint: scenario.endpoint,
    itemsPerRequest,
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    idPrefix,
  };
  const row: BenchRow = {
    label: scenario.label,
    server: scenario.target ? "cqa" : "bare",
    endpoint: scenario.endpoint,
    itemsPerRequest,
    result: null,
    skipped: null,
    ratio: null,
    processedPerSecond: null,
    invalid: null,
  };
  const problems: string[] = [];
  let server: ServerChild;
  if (!scenario.target) {
    server = await startBareServer();
    try {
      const { measured } = await measureLoad({
        ...load,
        baseUrl: server.url,
        path: ingestPath("00000000-0000-0000-0000-000000000000", scenario.endpoint),
        apiKey: null,
      });
      row.result = measured;
    } finally {
      await server.stop();
    }
  } else {
    const cqa = await startCqa(scenario.target);
    server = cqa.server;
    try {
      const { warmup, measured } = await measureLoad({
        ...load,
        baseUrl: cqa.server.url,
        path: ingestPath(cqa.accountId, scenario.endpoint),
        apiKey: cqa.apiKey,
      });
      row.result = measured;
      await cqa.stop();
      // Every 2xx must have stored its interactions: a fast answer that loses data is no result.
      // Requests still in flight when the time was up may have been stored without being counted.
      const accepted = ((warmup?.succeeded ?? 0) + measured.succeeded) * itemsPerRequest;
      const sent = ((warmup?.sent ?? 0) + measured.sent) * itemsPerRequest;
      const { stored, processed } = await cqa.countInteractions();
      if (stored < accepted || stored > sent) {
        problems.push(`${stored} interactions stored for ${accepted} accepted (${sent} sent)`);
      }
      if (scenario.target.role === "all") {
        row.processedPerSecond = processed / ((warmup?.durationSeconds ?? 0) + measured.durationSeconds);
      }
    } finally {
      await cqa.dispose();
    }
  }

  const r = row.result;
  if (r) {
    if (r.non2xx > 0) {
      const codes = Object.entries(r.statusCodes)
        .filter(([code]) => !code.startsWith("2"))
        .map(([code, count]) => `${count}× ${code}`)
        .join(", ");
      problems.push(`${r.non2xx} non-2xx answers (${codes}); first: ${r.failureSamples[0] ?? "?"}`);
    }
    if (r.errors > 0) problems.push(`${r.errors} connection errors or timeouts`);
    if (r.succeeded === 0) problems.push("no request succeeded");
  }
  const stderr = server.stderrTail().trim();
  if (problems.length > 0 && stderr !== "")
    problems.push(`server log: ${stderr.split("\n").slice(-3).join(" / ")}`);
  row.invalid = problems.length > 0 ? problems.join("; ") : null;
  return row;
}

function unmeasuredRow(
  scenario: Scenario,
  settings: Settings,
  skipped: string,
  invalid: string | null,
): BenchRow {
  return {
    label: scenario.label,
    server: scenario.target ? "cqa" : "bare",
    endpoint: scenario.endpoint,
    itemsPerRequest: scenario.endpoint === "batch" ? settings.batchSize : 1,
    result: null,
    skipped,
    ratio: null,
    processedPerSecond: null,
    invalid,
  };
}

/** Sets each cqa row's ratio to the mean of the bare runs with the same body; notes their spread. */
function applyReferences(rows: BenchRow[]): string[] {
  const notes: string[] = [];
  for (const endpoint of ["single", "batch"] as const) {
    const bare = rows.filter((r) => r.server === "bare" && r.endpoint === endpoint && r.result && !r.invalid);
    if (bare.length === 0) continue;
    const rates = bare.map((r) => r.result!.requestsPerSecond);
    const reference = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
    for (const row of rows) {
      if (row.server === "cqa" && row.endpoint === endpoint && row.result) {
        row.ratio = row.result.requestsPerSecond / reference;
      }
    }
    const spread = ((Math.max(...rates) - Math.min(...rates)) / reference) * 100;
    notes.push(
      `Reference for ${endpoint === "single" ? "single" : "batch"} requests: ${Math.round(reference).toLocaleString("en-GB")} requests/s ` +
        `(mean of ${rates.length} bare runs, spread ${spread.toFixed(0)} %${spread > 20 ? ": the machine was not steady, compare with care" : ""}).`,
    );
  }
  return notes;
}

async function postgresVersion(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: withDefaultUser(url) });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>("SHOW server_version");
    return `PostgreSQL ${result.rows[0]?.server_version ?? "?"} on the same machine`;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(argv: string[]): Promise<number> {
  const settings = readSettings(argv);
  if (!settings) return 0;
  const only = sectionNames.find((name) => name === settings.only);
  if (only) return benchSection(settings, sections(settings)[only]);
  const started = performance.now();
  const notes: string[] = [];

  const [load] = loadavg();
  if (load !== undefined && load > availableParallelism() / 2) {
    notes.push(
      `The machine was busy when the run started (load average ${load.toFixed(1)} on ${availableParallelism()} cores): other work competed for the cores.`,
    );
  }
  const unreachable = settings.only === "pglite" ? null : await probePostgres(settings.databaseUrl);
  if (unreachable) {
    const note = `PostgreSQL rows skipped: ${settings.databaseUrl} is unreachable (${unreachable}).`;
    notes.push(note);
    process.stderr.write(`${note}\n`);
  }
  const run = scenarios(settings, unreachable);
  const machine = describeMachine({
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    postgres:
      unreachable === null && settings.only !== "pglite" ? await postgresVersion(settings.databaseUrl) : null,
  });
  process.stderr.write(
    `Ingest benchmark: ${run.filter((s) => !s.skip).length} rows × (${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s), ` +
      `${settings.connections} connections, ${machine.cores} cores, Node ${machine.node}\n`,
  );

  const rows: BenchRow[] = [];
  for (const scenario of run) {
    if (scenario.skip) {
      rows.push(unmeasuredRow(scenario, settings, scenario.skip, null));
      continue;
    }
    process.stderr.write(`  ${scenario.label} …`);
    try {
      const row = await measureScenario(scenario, settings);
      rows.push(row);
      const perRequest = row.server === "bare" ? 1 : row.itemsPerRequest;
      const rate = row.result ? Math.round(row.result.requestsPerSecond * perRequest) : 0;
      const unit = row.server === "bare" ? "requests" : "interactions";
      process.stderr.write(` ${rate.toLocaleString("en-GB")} ${unit}/s${row.invalid ? " (INVALID)" : ""}\n`);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0]! : String(error);
      process.stderr.write(` failed: ${reason}\n`);
      rows.push(unmeasuredRow(scenario, settings, `failed to run: ${reason}`, reason));
    }
  }

  notes.push(...applyReferences(rows));
  const invalid = rows.filter((r) => r.invalid);
  if (invalid.length > 0) {
    notes.push(`THIS RUN IS INVALID: ${invalid.map((r) => `${r.label}: ${r.invalid}`).join(" | ")}`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${consoleTable(rows)}\n\n${aimVerdict(rows)}\n`);
  for (const note of notes) process.stdout.write(`${note}\n`);

  if (settings.write && invalid.length === 0) {
    writeGeneratedBlock(docsPath, ingestBlock, figuresSection(rows, machine, notes));
    process.stdout.write(`Figures written to docs/benchmarks.md (run took ${seconds.toFixed(0)} s).\n`);
  } else {
    const why = invalid.length > 0 ? "the run is invalid" : "a partial or --no-write run";
    process.stdout.write(`docs/benchmarks.md left unchanged (${why}; run took ${seconds.toFixed(0)} s).\n`);
  }
  if (settings.only !== null) return invalid.length > 0 ? 1 : 0;
  let status = invalid.length > 0 ? 1 : 0;
  for (const section of Object.values(sections(settings))) {
    status = Math.max(status, await benchSection(settings, section));
  }
  return status;
}

/** A section of figures beyond the ingest table, written to its own block of docs/benchmarks.md. */
interface Section {
  /** How messages name it: "Kafka", "S3". */
  name: string;
  /** What is about to be measured, shown when it starts. */
  banner: string;
  block: GeneratedBlock;
  /** Measures and answers the generated section. */
  measure(log: (line: string) => void): Promise<string>;
}

/** The sections `--only` can pick beside the ingest rows, in the order the full run measures them. */
function sections(settings: Settings): Record<SectionName, Section> {
  /** What every connector section takes: run length, and PostgreSQL besides PGlite when it answers. */
  const connectorRun = async (log: (line: string) => void) => ({
    quick: settings.quick,
    databaseUrl: (await probePostgres(settings.databaseUrl)) === null ? settings.databaseUrl : null,
    log,
  });
  return {
    // The dashboard's figures: the analysis list's JavaScript and how soon its 50 rows show.
    dashboard: {
      name: "Dashboard",
      banner: `Dashboard benchmark: ${settings.loads} loads of the analysis list in headless Chromium`,
      block: dashboardBlock,
      measure: async (log) =>
        dashboardSection(await measureDashboard({ loads: settings.loads, log }), settings.loads),
    },
    analysis: {
      name: "Analysis",
      banner: "Analysis benchmark: fixture calls, pocketsphinx-testdata, a 20-KPI profile",
      block: analysisBlock,
      measure: async (log) => analysisSection(await measureAnalysis({ quick: settings.quick, log })),
    },
    // The ECC6x Kafka figures, on a broker started for the run.
    kafka: {
      name: "Kafka",
      banner: "Kafka benchmark: a real Apache Kafka broker on loopback, ECC6x events with transcripts",
      block: kafkaBlock,
      measure: async (log) =>
        kafkaSection(await measureKafka({ ...(await connectorRun(log)), rate: settings.kafkaRate })),
    },
    // Conversations/s from listing to ingested, against a bare list + get loop.
    s3: {
      name: "S3",
      banner: "S3 benchmark: S3Proxy on loopback, recording + sidecar pairs",
      block: s3Block,
      measure: async (log) => s3Section(await measureS3(await connectorRun(log))),
    },
    // VLA report rows/s from the SFTP inbox to ingested, and SFTP upload throughput against references.
    ecc4x: {
      name: "ECC4x",
      banner: "ECC4x benchmark: VLA reports uploaded by the OpenSSH sftp client, Voice Log API simulated",
      block: ecc4xBlock,
      measure: async (log) =>
        ecc4xSection(await measureEcc4x({ ...(await connectorRun(log)), sshd: settings.sshd })),
    },
  };
}

/** Measures one section and writes its figures (unless told not to); answers the exit status. */
async function benchSection(settings: Settings, section: Section): Promise<number> {
  const started = performance.now();
  process.stderr.write(`${section.banner}\n`);
  let text: string;
  try {
    text = await section.measure((line) => process.stderr.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(
      `  ${section.name} benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
  process.stdout.write(`\n${text}\n`);
  const seconds = (performance.now() - started) / 1000;
  if (settings.write) {
    writeGeneratedBlock(docsPath, section.block, text);
    process.stdout.write(
      `${section.name} figures written to docs/benchmarks.md (${seconds.toFixed(0)} s).\n`,
    );
  } else {
    process.stdout.write(
      `docs/benchmarks.md left unchanged (a partial or --no-write run; ${seconds.toFixed(0)} s).\n`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
