import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { AppError } from "../core/errors.ts";

/** What a cqa process runs: everything, only the HTTP API, or only the background workers. */
export type ProcessRole = "all" | "api" | "worker";

/** Settings of one cqa process, validated at start. */
export interface CqaConfig {
  port: number;
  host: string;
  /** Embedded database, blobs, generated secrets. */
  dataDir: string;
  /** PostgreSQL instead of the embedded database when set. */
  databaseUrl: string | null;
  databaseSchema: string | null;
  /** Where recordings and uploaded files are kept (filesystem store). */
  blobDir: string;
  /** Bearer token of the operator (creates accounts); generated on first start when unset. */
  operatorToken: string | null;
  /** Master key for secrets at rest and derived signing secrets; generated on first start when unset. */
  secretKey: string | null;
  /** CQA_FETCH_ALLOW: private hosts/CIDRs outbound fetches may reach. */
  fetchAllow: string;
  role: ProcessRole;
  workerConcurrency: number;
  /** Base URL under which this cqa is reachable, for links it hands out (audio downloads). */
  publicUrl: string | null;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** How long a shutdown waits for in-flight work before returning it to the queue. */
  shutdownGraceMs: number;
  /**
   * How long a job claim lasts unless renewed (running jobs renew it every third of this): after a
   * worker dies, its jobs wait this long before another worker takes them.
   */
  jobLeaseMs: number;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration from environment variables (and from the JSON file named by
 * CQA_CONFIG_FILE, whose keys are the same variable names; the environment wins). Every problem
 * is reported at once, each with what is wrong and what would be right.
 */
export function loadConfig(env: Env = process.env): CqaConfig {
  const merged: Env = { ...readConfigFile(env["CQA_CONFIG_FILE"]), ...env };
  const problems: string[] = [];
  const dataDir = resolve(merged["CQA_DATA_DIR"] || "./data");

  const config: CqaConfig = {
    port: integer(merged, "CQA_PORT", 8080, 0, 65535, problems),
    host: merged["CQA_HOST"] || "0.0.0.0",
    dataDir,
    databaseUrl: databaseUrl(merged["DATABASE_URL"], problems),
    databaseSchema: optionalMatch(
      merged,
      "CQA_DATABASE_SCHEMA",
      /^[a-z_][a-z0-9_]{0,62}$/,
      "a lower-case schema name such as cqa",
      problems,
    ),
    blobDir: resolve(merged["CQA_BLOB_DIR"] || resolve(dataDir, "blobs")),
    operatorToken: minLength(merged, "CQA_OPERATOR_TOKEN", 24, problems),
    secretKey: minLength(merged, "CQA_SECRET_KEY", 32, problems),
    fetchAllow: merged["CQA_FETCH_ALLOW"] ?? "",
    role: oneOf(merged, "CQA_ROLE", ["all", "api", "worker"] as const, "all", problems),
    workerConcurrency: integer(merged, "CQA_WORKER_CONCURRENCY", 4, 1, 256, problems),
    publicUrl: publicUrl(merged["CQA_PUBLIC_URL"], problems),
    logLevel: oneOf(
      merged,
      "CQA_LOG_LEVEL",
      ["debug", "info", "warn", "error", "silent"] as const,
      "info",
      problems,
    ),
    shutdownGraceMs: integer(merged, "CQA_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000, problems),
    jobLeaseMs: integer(merged, "CQA_JOB_LEASE_MS", 60_000, 3_000, 3_600_000, problems),
  };
  if (problems.length > 0) {
    throw new AppError(
      "CONFIG_INVALID",
      `cqa cannot start; fix the configuration:\n  - ${problems.join("\n  - ")}`,
      {
        details: { problems },
      },
    );
  }
  return config;
}

function readConfigFile(path: string | undefined): Env {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_CONFIG_FILE=${path} cannot be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_CONFIG_FILE=${path} is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_CONFIG_FILE=${path} must hold a JSON object of setting names to values`,
    );
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got '${raw}')`);
    return fallback;
  }
  return value;
}

function oneOf<T extends string>(
  env: Env,
  name: string,
  values: readonly T[],
  fallback: T,
  problems: string[],
): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name} must be one of ${values.join(", ")} (got '${raw}')`);
  return fallback;
}

function minLength(env: Env, name: string, length: number, problems: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  if (raw.length < length) {
    problems.push(
      `${name} must be at least ${length} characters long (got ${raw.length}); use e.g. 'openssl rand -hex 32'`,
    );
    return null;
  }
  return raw;
}

function optionalMatch(
  env: Env,
  name: string,
  pattern: RegExp,
  expected: string,
  problems: string[],
): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  if (!pattern.test(raw)) {
    problems.push(`${name} must be ${expected} (got '${raw}')`);
    return null;
  }
  return raw;
}

function databaseUrl(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined || raw === "") return null;
  try {
    const url = new URL(raw);
    if (url.protocol === "postgres:" || url.protocol === "postgresql:") return raw;
  } catch {
    // reported below
  }
  problems.push("DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/cqa");
  return null;
}

function publicUrl(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined || raw === "") return null;
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return raw.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  problems.push(`CQA_PUBLIC_URL must be an http(s) URL such as https://cqa.example.com (got '${raw}')`);
  return null;
}
