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
  /** Named prepared statements on PostgreSQL (off behind a pooler that cannot keep them). */
  databasePreparedStatements: boolean;
  /** Where recordings and uploaded files are kept (filesystem store). */
  blobDir: string;
  /** Where cqa keeps recordings and files: the filesystem (blobDir) or an S3 bucket (CQA_BLOB_URL). */
  blobStore: BlobStoreConfig;
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
  /** CQA_SFTP_PORT: where the SFTP endpoint listens (0 = any free port); null when it is off. */
  sftpPort: number | null;
  /** Decoding recordings and the speech and language engines (see docs/analysis.md). */
  analysis: AnalysisEngineConfig;
}

/** An OpenAI-compatible server (transcription or chat). */
export interface OpenAiServerConfig {
  baseUrl: string;
  apiKey: string | null;
  model: string;
  timeoutMs: number;
  requestsPerMinute: number | null;
}

/** How recordings are decoded and which engines listen to them. */
export interface AnalysisEngineConfig {
  /** Default engine for audio-only calls: auto (a configured server, else PocketSphinx), none, or one by name. */
  transcriber: "auto" | "none" | "pocketsphinx" | "openai";
  ffmpegPath: string;
  pocketsphinxBinary: string;
  pocketsphinxModelDir: string;
  /** Longest recording analysed, in seconds. */
  maxAudioSeconds: number;
  transcription: OpenAiServerConfig | null;
  llm: OpenAiServerConfig | null;
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
    databasePreparedStatements:
      oneOf(merged, "CQA_DATABASE_PREPARED_STATEMENTS", ["on", "off"] as const, "on", problems) === "on",
    blobDir: resolve(merged["CQA_BLOB_DIR"] || resolve(dataDir, "blobs")),
    blobStore: blobStoreConfig(merged, problems),
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
    sftpPort: sftpPort(merged["CQA_SFTP_PORT"], problems),
    analysis: analysisEngines(merged, problems),
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

function analysisEngines(env: Env, problems: string[]): AnalysisEngineConfig {
  const transcription = openAiServer(env, "CQA_TRANSCRIBE", "whisper-1", 300_000, problems);
  const transcriber = oneOf(
    env,
    "CQA_TRANSCRIBER",
    ["auto", "none", "pocketsphinx", "openai"] as const,
    "auto",
    problems,
  );
  if (transcriber === "openai" && transcription === null && !env["CQA_TRANSCRIBE_URL"]) {
    problems.push(
      "CQA_TRANSCRIBER=openai needs CQA_TRANSCRIBE_URL, the base URL of an OpenAI-compatible server (e.g. https://api.openai.com/v1)",
    );
  }
  return {
    transcriber,
    ffmpegPath: env["CQA_FFMPEG_PATH"] || "ffmpeg",
    pocketsphinxBinary: env["CQA_POCKETSPHINX_BIN"] || "pocketsphinx_continuous",
    pocketsphinxModelDir: env["CQA_POCKETSPHINX_MODEL"] || "/usr/share/pocketsphinx/model/en-us",
    maxAudioSeconds: integer(env, "CQA_MAX_AUDIO_SECONDS", 14_400, 10, 86_400, problems),
    transcription,
    llm: openAiServer(env, "CQA_LLM", null, 60_000, problems),
  };
}

/** `<PREFIX>_URL`, `_API_KEY`, `_MODEL`, `_TIMEOUT_MS`, `_MAX_PER_MINUTE`; null when the URL is unset. */
function openAiServer(
  env: Env,
  prefix: string,
  defaultModel: string | null,
  defaultTimeoutMs: number,
  problems: string[],
): OpenAiServerConfig | null {
  const raw = env[`${prefix}_URL`];
  const timeoutMs = integer(env, `${prefix}_TIMEOUT_MS`, defaultTimeoutMs, 1_000, 3_600_000, problems);
  const perMinute = env[`${prefix}_MAX_PER_MINUTE`]
    ? integer(env, `${prefix}_MAX_PER_MINUTE`, 60, 1, 100_000, problems)
    : null;
  if (raw === undefined || raw === "") return null;
  let baseUrl: string | null = null;
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") baseUrl = raw.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  if (baseUrl === null) {
    problems.push(
      `${prefix}_URL must be an http(s) base URL ending with the API version, such as https://api.openai.com/v1 (got '${raw}')`,
    );
    return null;
  }
  const model = env[`${prefix}_MODEL`] || defaultModel;
  if (model === null) {
    problems.push(`${prefix}_MODEL must name the model to use at ${baseUrl} (e.g. gpt-4o-mini, llama3.1)`);
    return null;
  }
  return {
    baseUrl,
    apiKey: env[`${prefix}_API_KEY`] || null,
    model,
    timeoutMs,
    requestsPerMinute: perMinute,
  };
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

/** cqa's own blob store: the filesystem, or S3 / an S3-compatible server. */
export type BlobStoreConfig =
  | { kind: "filesystem" }
  | {
      kind: "s3";
      bucket: string;
      prefix: string;
      endpoint: string | null;
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
      forcePathStyle: boolean;
    };

/**
 * CQA_BLOB_URL=s3://bucket/prefix keeps recordings and files in S3 instead of CQA_BLOB_DIR, with
 * CQA_BLOB_S3_ENDPOINT (an S3-compatible server), CQA_BLOB_S3_REGION, CQA_BLOB_S3_ACCESS_KEY_ID /
 * CQA_BLOB_S3_SECRET_ACCESS_KEY / CQA_BLOB_S3_SESSION_TOKEN (else the AWS default credential chain)
 * and CQA_BLOB_S3_PATH_STYLE.
 */
function blobStoreConfig(env: Env, problems: string[]): BlobStoreConfig {
  const raw = env["CQA_BLOB_URL"];
  if (raw === undefined || raw === "") return { kind: "filesystem" };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw.trim());
  if (!match) {
    problems.push(
      `CQA_BLOB_URL must be s3://bucket or s3://bucket/prefix with a valid bucket name (3–63 lower-case letters, digits, dots, hyphens); got '${raw}'`,
    );
  }
  const prefix = (match?.[2] ?? "").replace(/^\/+/, "");
  let endpoint: string | null = null;
  const rawEndpoint = env["CQA_BLOB_S3_ENDPOINT"];
  if (rawEndpoint) {
    try {
      const url = new URL(rawEndpoint);
      if (url.protocol === "http:" || url.protocol === "https:") endpoint = rawEndpoint.replace(/\/+$/, "");
    } catch {
      // reported below
    }
    if (endpoint === null) {
      problems.push(
        `CQA_BLOB_S3_ENDPOINT must be the http(s) URL of an S3-compatible server (got '${rawEndpoint}')`,
      );
    }
  }
  const accessKeyId = env["CQA_BLOB_S3_ACCESS_KEY_ID"] || "";
  const secretAccessKey = env["CQA_BLOB_S3_SECRET_ACCESS_KEY"] || "";
  if ((accessKeyId === "") !== (secretAccessKey === "")) {
    problems.push(
      "CQA_BLOB_S3_ACCESS_KEY_ID and CQA_BLOB_S3_SECRET_ACCESS_KEY go together: set both, or neither to use the AWS default credentials (environment, profile, instance role)",
    );
  }
  const sessionToken = env["CQA_BLOB_S3_SESSION_TOKEN"] || "";
  const pathStyle = oneOf(
    env,
    "CQA_BLOB_S3_PATH_STYLE",
    ["true", "false"] as const,
    endpoint ? "true" : "false",
    problems,
  );
  if (!match) return { kind: "filesystem" };
  return {
    kind: "s3",
    bucket: match[1]!,
    prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`,
    endpoint,
    region: env["CQA_BLOB_S3_REGION"] || env["AWS_REGION"] || "us-east-1",
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
        : null,
    forcePathStyle: pathStyle === "true",
  };
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

function sftpPort(raw: string | undefined, problems: string[]): number | null {
  if (raw === undefined || raw === "") return 2222;
  if (raw.trim().toLowerCase() === "off") return null;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 0 && value <= 65535) return value;
  problems.push(
    `CQA_SFTP_PORT must be the port of the SFTP endpoint, a whole number from 1 to 65535 (0 = any free port), or 'off' to run without it (got '${raw}')`,
  );
  return 2222;
}
