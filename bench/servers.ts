// The servers under test, each in its own child process so that the load generator never shares
// their event loop: cqa (`bin/cqa.js serve`) on PGlite or PostgreSQL, and the bare Hono reference.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { withDefaultUser } from "../src/storage/postgres.ts";

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** A server child process that answers on `url`. */
export interface ServerChild {
  url: string;
  pid: number;
  /** The last lines the child wrote to stderr (its warnings and errors). */
  stderrTail(): string;
  stop(): Promise<void>;
}

/** Which cqa to run: its database and role. */
export type CqaTarget =
  | { database: "pglite"; role: "all" }
  | { database: "postgres"; role: "all" | "api"; url: string };

/** The benchmark account's interactions: all stored, and those the pipeline has finished. */
export interface InteractionCounts {
  stored: number;
  processed: number;
}

/** A running cqa with an account ready for ingest. */
export interface CqaUnderTest {
  server: ServerChild;
  accountId: string;
  apiKey: string;
  /** Interactions stored so far, counted in the database (after `stop` for PGlite). */
  countInteractions(): Promise<InteractionCounts>;
  /** Stops the server process. */
  stop(): Promise<void>;
  /** Stops it if needed and removes its data directory or schema. */
  dispose(): Promise<void>;
}

/** Starts the bare Hono reference server. */
export function startBareServer(): Promise<ServerChild> {
  return startChild([join(repoRoot, "bench", "bareServer.ts")], {}, /listening on (http:\/\/\S+)/);
}

/**
 * Starts `cqa serve` in a fresh data directory (PGlite) or a fresh schema (PostgreSQL), then
 * creates an account without conversation cap and with an ingest rate limit the benchmark cannot reach.
 */
export async function startCqa(
  target: CqaTarget,
  extraEnv: Record<string, string> = {},
): Promise<CqaUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-bench-"));
  const operatorToken = randomBytes(24).toString("base64url");
  const schema = target.database === "postgres" ? `bench_${randomBytes(6).toString("hex")}` : null;
  const env: Record<string, string> = {
    CQA_DATA_DIR: dataDir,
    CQA_PORT: "0",
    CQA_HOST: "127.0.0.1",
    CQA_OPERATOR_TOKEN: operatorToken,
    CQA_SECRET_KEY: randomBytes(32).toString("base64url"),
    CQA_LOG_LEVEL: "warn",
    CQA_SFTP_PORT: "off",
    CQA_ROLE: target.role,
    CQA_SHUTDOWN_GRACE_MS: "1000",
    ...(target.database === "postgres" && schema
      ? { DATABASE_URL: target.url, CQA_DATABASE_SCHEMA: schema }
      : {}),
    ...extraEnv,
  };
  const cleanup = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (target.database === "postgres" && schema) {
      await withPostgres(target.url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    }
  };
  let server: ServerChild;
  try {
    server = await startChild([join(repoRoot, "bin", "cqa.js"), "serve"], env, /listening on (http:\/\/\S+)/);
  } catch (error) {
    await cleanup();
    throw error;
  }
  try {
    const created = await fetch(`${server.url}/api/v1/accounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "Ingest benchmark",
        limits: { conversation_cap: "unlimited", ingest_posts_per_minute: 100_000_000 },
      }),
    });
    const body = (await created.json()) as { data?: { account_id: string; api_key: string } };
    if (created.status !== 201 || !body.data) {
      throw new Error(`creating the benchmark account answered ${created.status}: ${JSON.stringify(body)}`);
    }
    const { account_id: accountId, api_key: apiKey } = body.data;
    let stopped = false;
    const stop = async () => {
      if (!stopped) {
        stopped = true;
        await server.stop();
      }
    };
    return {
      server,
      accountId,
      apiKey,
      async countInteractions() {
        const sql = `SELECT count(*)::int AS stored,
            count(*) FILTER (WHERE status IN ('completed', 'failed'))::int AS processed
          FROM interactions WHERE account_id = $1`;
        if (target.database === "postgres" && schema) {
          return withPostgres(target.url, async (client) => {
            await client.query(`SET search_path = ${schema}`);
            const result = await client.query<InteractionCounts>(sql, [accountId]);
            return result.rows[0] ?? { stored: 0, processed: 0 };
          });
        }
        if (!stopped) throw new Error("PGlite serves one process: stop cqa before counting");
        const { openPglite } = await import("../src/storage/pglite.ts");
        const db = await openPglite(join(dataDir, "db"));
        try {
          const result = await db.query<InteractionCounts>(sql, [accountId]);
          return result.rows[0] ?? { stored: 0, processed: 0 };
        } finally {
          await db.close();
        }
      },
      stop,
      async dispose() {
        await stop();
        await cleanup();
      },
    };
  } catch (error) {
    await server.stop();
    await cleanup();
    throw error;
  }
}

/** Whether PostgreSQL answers at `url`; the reason when it does not. */
export async function probePostgres(url: string): Promise<string | null> {
  try {
    await withPostgres(url, (client) => client.query("SELECT 1"));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function withPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDefaultUser(url), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<ServerChild> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...inheritedEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise<ServerChild>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start within 60 s:\n${stderr}`));
    }, 60_000);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const match = ready.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          pid: child.pid ?? 0,
          stderrTail: () => stderr,
          stop: () => stopChild(child, exited),
        });
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited (${signal ?? code}) before listening:\n${stderr}`));
    });
  });
}

/** The environment without cqa settings, so a developer's own CQA_* or DATABASE_URL cannot leak in. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("CQA_") && name !== "DATABASE_URL"),
  );
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  // cqa finishes in-flight work on SIGTERM (grace 1 s here); a child that hangs is killed.
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}
