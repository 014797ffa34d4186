// `cqa serve` as a real child process on real storage, for tests that kill it with SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "../../../src/storage/db.ts";
import { openPglite } from "../../../src/storage/pglite.ts";
import { openPostgres } from "../../../src/storage/postgres.ts";

export const operatorToken = "crash-test-operator-token-0123456789";
export const secretKey = "crash-test-master-key-0123456789abcdef0123";

const cqaBin = fileURLToPath(new URL("../../../bin/cqa.js", import.meta.url));

/** Where a cqa child keeps its data, and a way for the test to look at it while no child runs. */
export interface CrashStorage {
  name: "embedded" | "postgres";
  env: Record<string, string>;
  /**
   * Runs `read` on the database as the last child left it. For the embedded database it reads a
   * copy, so the next child starts on exactly what the killed one left (and recovers it itself).
   */
  inspect<T>(read: (db: Database) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

/** The embedded default (always) and PostgreSQL (when CQA_TEST_DATABASE_URL is set). */
export function crashStorages(): { name: CrashStorage["name"]; create(): Promise<CrashStorage> }[] {
  const storages: { name: CrashStorage["name"]; create(): Promise<CrashStorage> }[] = [
    { name: "embedded", create: async () => embeddedStorage() },
  ];
  const url = process.env["CQA_TEST_DATABASE_URL"];
  if (url) storages.push({ name: "postgres", create: () => postgresStorage(url) });
  return storages;
}

function embeddedStorage(): CrashStorage {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-crash-"));
  return {
    name: "embedded",
    env: { CQA_DATA_DIR: dataDir },
    async inspect(read) {
      const copy = mkdtempSync(join(tmpdir(), "cqa-crash-copy-"));
      try {
        cpSync(join(dataDir, "db"), copy, { recursive: true });
        const db = await openPglite(copy);
        try {
          return await read(db);
        } finally {
          await db.close();
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    },
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function postgresStorage(url: string): Promise<CrashStorage> {
  const schema = `cqa_crash_${randomBytes(5).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-crash-pg-"));
  let db: Database | null = null;
  const open = async () => {
    db ??= await openPostgres({ connectionString: url, schema, maxConnections: 2 });
    return db;
  };
  return {
    name: "postgres",
    env: { CQA_DATA_DIR: dataDir, DATABASE_URL: url, CQA_DATABASE_SCHEMA: schema },
    async inspect(read) {
      return read(await open());
    },
    async dispose() {
      const opened = await open();
      await opened.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One run of `cqa serve`; `log` keeps everything it printed, for failure reports. */
export interface CqaChild {
  url: string;
  pid: number;
  /** Resolves once /readyz answers 200. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface ChildLog {
  lines: string[];
  text(): string;
}

export function childLog(): ChildLog {
  const lines: string[] = [];
  return { lines, text: () => lines.join("") };
}

/** Starts `node bin/cqa.js serve` on `storage`, listening on 127.0.0.1:`port`. */
export function startCqaChild(options: {
  storage: CrashStorage;
  port: number;
  log: ChildLog;
  label: string;
  env?: Record<string, string>;
}): CqaChild {
  const url = `http://127.0.0.1:${options.port}`;
  const child: ChildProcess = spawn(process.execPath, [cqaBin, "serve"], {
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? tmpdir(),
      CQA_HOST: "127.0.0.1",
      CQA_PORT: String(options.port),
      CQA_OPERATOR_TOKEN: operatorToken,
      CQA_SECRET_KEY: secretKey,
      CQA_FETCH_ALLOW: "127.0.0.1/8",
      CQA_LOG_LEVEL: "info",
      CQA_SFTP_PORT: "off",
      ...options.storage.env,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const record = (stream: string) => (chunk: Buffer) => {
    options.log.lines.push(`[${options.label} ${stream}] ${chunk.toString()}`);
  };
  child.stdout?.on("data", record("out"));
  child.stderr?.on("data", record("err"));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      options.log.lines.push(`[${options.label}] exited (code ${code}, signal ${signal})\n`);
      resolve({ code, signal });
    });
  });
  const ready = (async () => {
    const deadline = Date.now() + 120_000;
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    while (Date.now() < deadline) {
      if (gone) throw new Error(`cqa (${options.label}) exited before it was ready`);
      try {
        const response = await fetch(`${url}/readyz`);
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`cqa (${options.label}) was not ready within 120 s`);
  })();
  ready.catch(() => {});
  return {
    url,
    pid: child.pid ?? 0,
    ready,
    exited,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
