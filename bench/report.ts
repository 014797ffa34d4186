// Turns benchmark rows into the console table and the generated section of docs/benchmarks.md.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import type { Endpoint, LoadResult } from "./load.ts";

/** One line of the results: a measured scenario, or one that was skipped and why. */
export interface BenchRow {
  label: string;
  server: "bare" | "cqa";
  endpoint: Endpoint;
  itemsPerRequest: number;
  result: LoadResult | null;
  skipped: string | null;
  /** Ours ÷ the bare route with the same body, when both were measured. */
  ratio: number | null;
  /** Interactions the pipeline finished per second while the load ran (cqa with workers). */
  processedPerSecond: number | null;
  /** Why the figures cannot be trusted (non-2xx answers, errors, lost rows); null when valid. */
  invalid: string | null;
}

/** Where and how the figures were taken. */
export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  postgres: string | null;
  commit: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

/** The batch-ingest aim of the issue, on PostgreSQL. */
export const batchAimPerSecond = 2_000;

export function describeMachine(
  settings: Pick<MachineInfo, "connections" | "warmupSeconds" | "durationSeconds" | "postgres">,
): MachineInfo {
  return {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    commit: gitCommit(),
    ...settings,
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    return dirty.trim() === "" ? head : `${head} (with uncommitted changes)`;
  } catch {
    return "unknown";
  }
}

const fixed = (value: number, digits = 0) =>
  value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Cells {
  scenario: string;
  requests: string;
  interactions: string;
  ratio: string;
  analysed: string;
  p50: string;
  p99: string;
  non2xx: string;
  errors: string;
  note: string;
}

function cellsOf(row: BenchRow): Cells {
  const r = row.result;
  if (!r) {
    return {
      scenario: row.label,
      requests: "—",
      interactions: "—",
      ratio: "—",
      analysed: "—",
      p50: "—",
      p99: "—",
      non2xx: "—",
      errors: "—",
      note: `skipped: ${row.skipped ?? "not run"}`,
    };
  }
  return {
    scenario: row.label,
    requests: fixed(r.requestsPerSecond),
    interactions: row.server === "bare" ? "—" : fixed(r.requestsPerSecond * row.itemsPerRequest),
    ratio: row.ratio === null ? (row.server === "bare" ? "reference" : "—") : fixed(row.ratio, 3),
    analysed: row.processedPerSecond === null ? "—" : fixed(row.processedPerSecond),
    p50: fixed(r.latencyP50Ms, 1),
    p99: fixed(r.latencyP99Ms, 1),
    non2xx: String(r.non2xx),
    errors: String(r.errors),
    note: row.invalid ? `INVALID: ${row.invalid}` : "",
  };
}

const headings: Cells = {
  scenario: "scenario",
  requests: "requests/s",
  interactions: "interactions/s",
  ratio: "ratio to bare",
  analysed: "analysed/s",
  p50: "p50 ms",
  p99: "p99 ms",
  non2xx: "non-2xx",
  errors: "errors",
  note: "note",
};
const columns = Object.keys(headings) as (keyof Cells)[];
const numeric = new Set<keyof Cells>([
  "requests",
  "interactions",
  "ratio",
  "analysed",
  "p50",
  "p99",
  "non2xx",
  "errors",
]);

/** A plain-text table for the terminal. */
export function consoleTable(rows: readonly BenchRow[]): string {
  const lines = [headings, ...rows.map(cellsOf)];
  const widths = columns.map((c) => Math.max(...lines.map((l) => l[c].length)));
  const render = (cells: Cells) =>
    columns
      .map((c, i) => (numeric.has(c) ? cells[c].padStart(widths[i]!) : cells[c].padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [render(headings), widths.map((w) => "-".repeat(w)).join("  "), ...lines.slice(1).map(render)].join(
    "\n",
  );
}

/** Whether batch ingest on PostgreSQL reached the aim, in words. */
export function aimVerdict(rows: readonly BenchRow[]): string {
  const batch = rows.filter(
    (r) => r.server === "cqa" && r.endpoint === "batch" && r.label.includes("PostgreSQL") && r.result,
  );
  if (batch.length === 0)
    return `Aim (batch ingest ≥ ${fixed(batchAimPerSecond)} interactions/s on PostgreSQL): not measured.`;
  return batch
    .map((r) => {
      const rate = r.result!.requestsPerSecond * r.itemsPerRequest;
      const met = rate >= batchAimPerSecond && !r.invalid;
      return `Aim (batch ingest ≥ ${fixed(batchAimPerSecond)} interactions/s on PostgreSQL), ${r.label}: ${fixed(rate)}/s — ${met ? "met" : "not met"}.`;
    })
    .join("\n");
}

/** A Markdown table padded the way the project's formatter (Biome) lays tables out. */
function markdownTable(rows: readonly BenchRow[]): string {
  const escapePipes = (text: string) => text.replace(/\|/g, "\\|");
  const lines = [headings, ...rows.map(cellsOf)].map((cells) =>
    Object.fromEntries(columns.map((c) => [c, escapePipes(cells[c])])),
  );
  const widths = columns.map((c) => Math.max(3, ...lines.map((l) => l[c]!.length)));
  const line = (cells: Record<string, string>) =>
    `| ${columns
      .map((c, i) => (numeric.has(c) ? cells[c]!.padStart(widths[i]!) : cells[c]!.padEnd(widths[i]!)))
      .join(" | ")} |`;
  const rule = `| ${columns
    .map((c, i) => (numeric.has(c) ? `${"-".repeat(widths[i]! - 1)}:` : "-".repeat(widths[i]!)))
    .join(" | ")} |`;
  return [line(lines[0]!), rule, ...lines.slice(1).map(line)].join("\n");
}

/** The generated section: the machine, the table, the aim and any notes. */
export function figuresSection(
  rows: readonly BenchRow[],
  machine: MachineInfo,
  notes: readonly string[],
): string {
  const parts = [
    `Measured ${machine.date} on ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB RAM, ` +
      `Node ${machine.node}, ${machine.postgres ?? "PostgreSQL not measured"}; commit ${machine.commit}. ` +
      `${machine.connections} connections, ${machine.warmupSeconds} s warm-up, ${machine.durationSeconds} s measured per row.`,
    "",
    markdownTable(rows),
    "",
    ...aimVerdict(rows)
      .split("\n")
      .map((line) => `- ${line}`),
    ...notes.map((note) => `- ${note}`),
  ];
  return parts.join("\n");
}

/** Where a section's generated figures go on the results page, and what heads it when it is new. */
export interface GeneratedBlock {
  /** The marker name: the block lies between `<!-- bench:{name}:start … -->` and `<!-- bench:{name}:end -->`. */
  name: string;
  /** The heading the block is added under when the page does not have it yet. */
  heading: string;
  /** A paragraph between that heading and the block, when it is added. */
  intro?: string;
}

/** The ingest figures: the first block of the page. */
export const ingestBlock: GeneratedBlock = { name: "figures", heading: "Figures" };

/**
 * Replaces a generated block of the results page, keeping everything around it (hand-written
 * explanations included); a block the page lacks is added at the end under its heading.
 */
export function writeGeneratedBlock(path: string, block: GeneratedBlock, section: string): void {
  const startMarker = `<!-- bench:${block.name}:start (generated by npm run bench; edits here are overwritten) -->`;
  const endMarker = `<!-- bench:${block.name}:end -->`;
  const page = existsSync(path) ? readFileSync(path, "utf8") : "";
  const start = page.indexOf(startMarker);
  const end = page.indexOf(endMarker);
  const generated = `${startMarker}\n${section}\n${endMarker}`;
  const added = [`## ${block.heading}`, ...(block.intro ? [block.intro] : []), generated].join("\n\n");
  const next =
    start >= 0 && end > start
      ? `${page.slice(0, start)}${generated}${page.slice(end + endMarker.length)}`
      : `${page.trimEnd()}${page.trim() === "" ? "" : "\n\n"}${added}\n`;
  writeFileSync(path, next);
}

/** A figure as the results page shows it: thousands grouped, fixed decimals; "—" when not measured. */
export function formatFigure(value: number | null, digits = 0): string {
  return value === null ? "—" : fixed(value, digits);
}

/** A column of a section's table: numbers are right-aligned. */
export interface TableColumn {
  heading: string;
  numeric?: boolean;
}

/** The lines of a Markdown table of cells already formatted, one array of cells per row. */
export function tableLines(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(columns.map((c) => c.heading)),
    line(columns.map((c) => (c.numeric ? "---:" : "---"))),
    ...rows.map(line),
  ];
}
