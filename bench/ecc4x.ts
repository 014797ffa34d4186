// The ECC4x figures of `npm run bench` (docs/benchmarks.md, "ECC4x figures"), with the real OpenSSH
// `sftp` client in batch mode and the Voice Log API simulated (test/support/ecc4xSimulators.ts):
//   - VLA reports: rows/s from a report landing in cqa's SFTP inbox to every row's interaction stored
//     by the canonical ingest path — the upload starts a run of the ecc4x_sftp connector, run alone
//     (the pipeline's loops off, so recordings are fetched from the Voice Log API only afterwards, by the
//     pipeline) — as a ratio to the same rows sent to the batch ingest endpoint in the same process
//     and database;
//   - SFTP uploads: MiB/s of the OpenSSH client putting one large file into cqa's SFTP endpoint, as a
//     ratio to the same client uploading to the machine's OpenSSH server (when installed) and to a bare
//     ssh2 SFTP server writing straight to a folder (bench/bareSftpServer.ts).
// Figures are reported, never asserted.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { loadavg, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { integrationRunHandler } from "../src/connectors/supervisor.ts";
import { JobWorker } from "../src/pipeline/jobWorker.ts";
import { openPglite } from "../src/storage/pglite.ts";
import { openPostgres } from "../src/storage/postgres.ts";
import type { TestDatabase } from "../src/storage/testing.ts";
import { type Ecc4xRig, startEcc4xRig } from "../test/ecc4x/ecc4xRig.ts";
import {
  openSshSftp,
  reportFile,
  type SftpTarget,
  type SimulatedCall,
  simulatedCall,
  vlaReport,
} from "../test/support/ecc4xSimulators.ts";
import { operatorToken } from "../test/support/testCqa.ts";
import { startBareSftpServer } from "./bareSftpServer.ts";
import {
  describeMachine,
  formatFigure,
  type GeneratedBlock,
  type MachineInfo,
  tableLines,
} from "./report.ts";

/** Where the ECC4x figures go on the results page. */
export const ecc4xBlock: GeneratedBlock = { name: "ecc4x", heading: "ECC4x figures" };

/** The OpenSSH client the figures are taken with (the one an IT team's VLA uploader would use). */
const sftpClient = "/usr/bin/sftp";
/** Rows per batch request of the reference, as the connector ingests a report (100 rows a transaction). */
const batchSize = 100;
const mib = 1024 * 1024;

export interface ReportRow {
  label: string;
  rows: number;
  perSecond: number | null;
  ratio: number | null;
  note: string;
}

export interface UploadRow {
  label: string;
  /** MiB/s of the transfer: the upload session's time minus an empty session's (connect + login). */
  mibPerSecond: number | null;
  /** cqa's MiB/s divided by this reference's. */
  ratio: number | null;
  /** What the client and server agreed on, as `sftp -v` prints it. */
  cipher: string | null;
  note: string;
}

export interface Ecc4xFigures {
  machine: MachineInfo;
  openSsh: string;
  rows: number;
  reports: ReportRow[];
  uploadBytes: number;
  uploadRounds: number;
  uploads: UploadRow[];
  notes: string[];
}

type Log = (line: string) => void;

const seconds = (since: number) => (performance.now() - since) / 1000;
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** PGlite on disk (as `cqa serve` runs it), and PostgreSQL in a fresh schema when it answers. */
function backends(databaseUrl: string | null): TestDatabase[] {
  const pglite: TestDatabase = {
    name: "pglite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "cqa-bench-ecc4x-db-"));
      const db = await openPglite(dir);
      const close = db.close.bind(db);
      return Object.assign(db, {
        close: async () => {
          await close();
          rmSync(dir, { recursive: true, force: true });
        },
      });
    },
  };
  if (!databaseUrl) return [pglite];
  const postgres: TestDatabase = {
    name: "postgres",
    async open() {
      const schema = `bench_ecc4x_${randomBytes(4).toString("hex")}`;
      const db = await openPostgres({ connectionString: databaseUrl, schema });
      const close = db.close.bind(db);
      return Object.assign(db, {
        close: async () => {
          await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
          await close();
        },
      });
    },
  };
  return [pglite, postgres];
}

/** A rig whose account the reference's batch requests are never rate-limited for. */
async function startRig(backend?: TestDatabase): Promise<Ecc4xRig> {
  const rig = await startEcc4xRig({ loops: false, ...(backend ? { backend } : {}) });
  const limits = await rig.cqa.request("PUT", `/api/v1/accounts/${rig.account.accountId}/limits`, {
    bearer: operatorToken,
    body: { conversation_cap: "unlimited", ingest_posts_per_minute: 100_000_000 },
  });
  if (limits.status !== 200) throw new Error(`setting the account's limits answered ${limits.status}`);
  return rig;
}

/** The batch endpoint's item for a call: what the connector makes of the same report row. */
function batchItem(call: SimulatedCall, recordingBase: string): Record<string, unknown> {
  return {
    external_interaction_id: call.call_sid,
    channel_type: "VOICE",
    source: "ecc4x-vla",
    audio_url: `${recordingBase}/${encodeURIComponent(call.call_sid)}`,
    // The report's local time, in the account's zone (Asia/Kolkata).
    interaction_start_time: `${call.start_time.replace(" ", "T")}+05:30`,
    duration_seconds: call.duration,
    metadata: {
      agent_id: call.agent_id,
      agent_name: call.agent_name,
      campaign: call.campaign,
      queue: call.queue,
      direction: call.direction,
      customer_number: call.customer_number,
      disposition: call.disposition,
      crm_ticket: call.crm_ticket,
    },
  };
}

/** The reference: the same rows posted to the batch endpoint, 100 a request, one request at a time. */
async function batchEndpoint(rig: Ecc4xRig, calls: readonly SimulatedCall[]): Promise<number> {
  const recordingBase = `${rig.voiceLog.url}/voicelog/recordings`;
  const started = performance.now();
  for (let i = 0; i < calls.length; i += batchSize) {
    const interactions = calls.slice(i, i + batchSize).map((call) => batchItem(call, recordingBase));
    const answer = await rig.api("POST", "/ingress/interactions/batch", { interactions });
    if (answer.status !== 202)
      throw new Error(`the batch endpoint answered ${answer.status}: ${answer.text}`);
  }
  return calls.length / seconds(started);
}

async function storedWithPrefix(rig: Ecc4xRig, prefix: string): Promise<number> {
  const stored = await rig.cqa.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM interactions WHERE account_id = $1 AND external_interaction_id LIKE $2",
    [rig.account.accountId, `${prefix}%`],
  );
  return stored.rows[0]?.n ?? 0;
}

/**
 * A VLA report of `calls` uploaded by the OpenSSH client: answers rows/s from the moment the client
 * is done (the report has landed) to the moment every row is stored, and the upload's seconds.
 */
async function reportToIngested(
  rig: Ecc4xRig,
  worker: JobWorker,
  integrationId: string,
  prefix: string,
  calls: readonly SimulatedCall[],
): Promise<{ perSecond: number; uploadSeconds: number; bytes: number }> {
  rig.voiceLog.publish(...calls.map((c) => c.call_sid));
  const report = vlaReport(calls);
  const file = reportFile(`vla_${prefix}.csv`, report);
  try {
    const uploadStarted = performance.now();
    const upload = await openSshSftp(rig.target, [`put ${file.path}`], file.dir);
    if (upload.code !== 0) throw new Error(`sftp put failed (${upload.code}): ${upload.stderr.trim()}`);
    const landed = performance.now();
    // The upload queues a run of the integration; this worker runs only integration runs.
    const deadline = Date.now() + 120_000;
    while ((await storedWithPrefix(rig, prefix)) < calls.length) {
      if (Date.now() > deadline) {
        // A failed run is retried later with back-off: say what its last attempt met.
        const runs = await rig.api("GET", `/integrations/${integrationId}/runs?limit=1`);
        throw new Error(`the report of ${prefix} was not ingested in 2 minutes; last run: ${runs.text}`);
      }
      if ((await worker.drain()) === 0) await delay(2);
    }
    const perSecond = calls.length / seconds(landed);
    return { perSecond, uploadSeconds: (landed - uploadStarted) / 1000, bytes: Buffer.byteLength(report) };
  } finally {
    rmSync(file.dir, { recursive: true, force: true });
  }
}

/** Report rows through the connector and through the batch endpoint, on one database. */
async function measureReports(backend: TestDatabase, count: number, log: Log): Promise<ReportRow[]> {
  const name = backend.name === "pglite" ? "PGlite" : "PostgreSQL";
  const rig = await startRig(backend);
  const errors: unknown[] = [];
  const worker = new JobWorker({
    db: rig.cqa.db,
    clock: rig.cqa.running.services.clock,
    concurrency: 1,
    leaseMs: 600_000,
    onError: (_message, error) => errors.push(error),
    handlers: [integrationRunHandler(rig.cqa.running.services.connectors)],
  });
  try {
    const integrationId = await rig.createSftpIntegration();
    const calls = (prefix: string, n = count) =>
      Array.from({ length: n }, (_, i) => simulatedCall(prefix, i));
    // Warm up both paths (and the JIT) before anything is timed.
    await reportToIngested(rig, worker, integrationId, "WARMVLA", calls("WARMVLA", 200));
    await batchEndpoint(rig, calls("WARMREF", 200));
    const reference = [await batchEndpoint(rig, calls("REFA"))];
    log(`  batch endpoint, ${name}: ${reference[0]!.toFixed(0)} rows/s`);
    const vla = await reportToIngested(rig, worker, integrationId, "VLA", calls("VLA"));
    log(
      `  VLA report landed → ingested, ${name}: ${vla.perSecond.toFixed(0)} rows/s (upload ${vla.uploadSeconds.toFixed(2)} s)`,
    );
    reference.push(await batchEndpoint(rig, calls("REFB")));
    log(`  batch endpoint again, ${name}: ${reference[1]!.toFixed(0)} rows/s`);
    if (errors.length > 0) throw new Error(`the connector's run failed: ${String(errors[0])}`);
    const mean = (reference[0]! + reference[1]!) / 2;
    const spread = (Math.abs(reference[0]! - reference[1]!) / mean) * 100;
    return [
      {
        label: `batch ingest endpoint, ${name}`,
        rows: count,
        perSecond: mean,
        ratio: null,
        note: `reference: the same rows as JSON, ${batchSize} a request in process, one at a time; mean of a run before and after (spread ${spread.toFixed(0)} %${spread > 20 ? ": the machine was not steady, compare with care" : ""})`,
      },
      {
        label: `VLA report over SFTP → ingested, ${name}`,
        rows: count,
        perSecond: vla.perSecond,
        ratio: vla.perSecond / mean,
        note: `from the end of the upload (${(vla.bytes / 1024).toFixed(0)} KB in ${vla.uploadSeconds.toFixed(2)} s) to the last row stored: run queued on arrival, CSV read, ${batchSize} rows a transaction with the checkpoint, report moved to processed/`,
      },
    ];
  } finally {
    await rig.stop();
  }
}

/** An SFTP server the upload figure measures, with where to put the file and how to check it. */
interface UploadServer {
  label: string;
  target: SftpTarget;
  /** The remote path of the uploaded file. */
  remotePath: string;
  /** The size the server stored, and removes it. */
  takeUploaded(): Promise<number>;
  stop(): Promise<void>;
}

async function cqaEndpoint(): Promise<UploadServer> {
  const rig = await startRig();
  const client = await rig.sftpClient();
  return {
    label: "cqa SFTP endpoint (ssh2; inbox on PGlite, files in the blob store)",
    target: rig.target,
    remotePath: "/upload.bin",
    async takeUploaded() {
      const size = (await client.stat("/upload.bin")).size;
      await client.delete("/upload.bin");
      return size;
    },
    stop: () => rig.stop(),
  };
}

async function bareSsh2Server(dir: string): Promise<UploadServer> {
  const folder = join(dir, "bare");
  mkdirSync(folder);
  const credentials = { username: "bench", password: "bench-upload-password-1" };
  const server = await startBareSftpServer({ folder, keyDir: join(dir, "bare-key"), ...credentials });
  const file = join(folder, "upload.bin");
  return {
    label: "bare ssh2 SFTP server, writing to a folder (same process)",
    target: { host: "127.0.0.1", port: server.port, ...credentials, hostKey: server.hostPublicKey },
    remotePath: "/upload.bin",
    async takeUploaded() {
      const size = statSync(file).size;
      rmSync(file);
      return size;
    },
    stop: () => server.close(),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * The machine's OpenSSH server on a loopback port, as the current user: its own host key, config and
 * authorized_keys in `dir` (StrictModes off, so their owner and modes do not matter), internal-sftp.
 */
async function openSshServer(sshd: string, dir: string): Promise<UploadServer> {
  const home = join(dir, "sshd");
  const uploads = join(home, "uploads");
  mkdirSync(uploads, { recursive: true });
  const keygen = (path: string) =>
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", path]);
  keygen(join(home, "host_key"));
  keygen(join(home, "user_key"));
  writeFileSync(join(home, "authorized_keys"), readFileSync(join(home, "user_key.pub")));
  const port = await freePort();
  const config = join(home, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(home, "host_key")}`,
      `PidFile ${join(home, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(home, "authorized_keys")}`,
      "StrictModes no",
      // Without PAM, sshd refuses accounts whose password is locked (most service and CI users), keys
      // or not; PAM's account check lets key logins of such users through, as an installed sshd does.
      "UsePAM yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "Subsystem sftp internal-sftp",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // sshd re-executes itself, so it wants its absolute path.
  const child = spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`sshd did not start: ${stderr.trim().split("\n").at(-1) ?? "no message"}`);
    }
    await delay(50);
  }
  const hostKey = readFileSync(join(home, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
  const file = join(uploads, "upload.bin");
  return {
    label: `OpenSSH server (${sshd}, internal-sftp)`,
    target: {
      host: "127.0.0.1",
      port,
      username: userInfo().username,
      privateKeyPath: join(home, "user_key"),
      hostKey,
    },
    remotePath: file,
    async takeUploaded() {
      const size = statSync(file).size;
      rmSync(file);
      return size;
    },
    stop,
  };
}

/** The cipher and MAC the client agreed on with `server`, from an `sftp -v` session. */
async function negotiated(server: UploadServer): Promise<string | null> {
  const run = await openSshSftp(server.target, ["pwd"], undefined, ["-v"]);
  const match = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(run.stderr);
  if (!match) return null;
  return match[2] === "<implicit>" ? match[1]! : `${match[1]} + ${match[2]}`;
}

/** Seconds of one `sftp` session running `commands` against `server`. */
async function session(server: UploadServer, commands: readonly string[], cwd: string): Promise<number> {
  const started = performance.now();
  const run = await openSshSftp(server.target, commands, cwd);
  if (run.code !== 0)
    throw new Error(`sftp against ${server.label} failed (${run.code}): ${run.stderr.trim()}`);
  return seconds(started);
}

/** Upload MiB/s of the OpenSSH client into cqa's endpoint and into the references, taken in turns. */
async function measureUploads(options: {
  bytes: number;
  rounds: number;
  sshd: string;
  log: Log;
}): Promise<UploadRow[]> {
  const { bytes, rounds, log } = options;
  const dir = mkdtempSync(join(tmpdir(), "cqa-bench-ecc4x-upload-"));
  const servers: UploadServer[] = [];
  const rows: UploadRow[] = [];
  try {
    const local = join(dir, "upload.bin");
    // Random bytes: nothing on the way could make them smaller.
    writeFileSync(local, randomBytes(bytes));
    servers.push(await cqaEndpoint());
    // The OpenSSH server is the reference the issue asks for; the bare ssh2 server is measured always.
    let openSshMissing: string | null = "no OpenSSH server (apt-get install openssh-server)";
    if (existsSync(options.sshd)) {
      try {
        servers.push(await openSshServer(options.sshd, dir));
        openSshMissing = null;
      } catch (error) {
        openSshMissing = error instanceof Error ? error.message : String(error);
      }
    }
    servers.push(await bareSsh2Server(dir));
    const transfers = servers.map(() => [] as number[]);
    const baselines: number[] = [];
    const ciphers: (string | null)[] = [];
    for (const server of servers) {
      ciphers.push(await negotiated(server));
      // Connecting and logging in, timed alone: taken off each upload session.
      const empty: number[] = [];
      for (let i = 0; i < 3; i++) empty.push(await session(server, ["pwd"], dir));
      baselines.push(median(empty));
      // A warm-up upload, untimed.
      await session(server, [`put upload.bin ${server.remotePath}`], dir);
      await server.takeUploaded();
    }
    for (let round = 0; round < rounds; round++) {
      for (const [i, server] of servers.entries()) {
        const total = await session(server, [`put upload.bin ${server.remotePath}`], dir);
        const stored = await server.takeUploaded();
        if (stored !== bytes) throw new Error(`${server.label} stored ${stored} of ${bytes} bytes`);
        transfers[i]!.push(Math.max(total - baselines[i]!, 0.001));
        log(
          `  upload to ${server.label}: ${(bytes / mib / transfers[i]!.at(-1)!).toFixed(1)} MiB/s (session ${total.toFixed(2)} s)`,
        );
      }
    }
    const rates = transfers.map((t) => bytes / mib / median(t));
    const cqa = rates[0]!;
    const note = (i: number) => {
      const login = `minus an empty session's ${baselines[i]!.toFixed(2)} s (connect + login)`;
      if (rounds === 1) return `one upload session ${login}`;
      const each = transfers[i]!.map((t) => bytes / mib / t);
      return `median of ${rounds} upload sessions (${fmt(Math.min(...each), 1)}–${fmt(Math.max(...each), 1)} MiB/s), each ${login}`;
    };
    for (const [i, server] of servers.entries()) {
      rows.push({
        label: server.label,
        mibPerSecond: rates[i]!,
        ratio: i === 0 ? null : cqa / rates[i]!,
        cipher: ciphers[i]!,
        note: note(i),
      });
    }
    if (openSshMissing !== null) {
      rows.splice(1, 0, {
        label: "OpenSSH server",
        mibPerSecond: null,
        ratio: null,
        cipher: null,
        note: `not measured: ${openSshMissing}`,
      });
    }
    return rows;
  } finally {
    for (const server of servers.reverse()) await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `OpenSSH_9.2p1 …`, as `ssh -V` prints it (on stderr). */
function openSshVersion(): string {
  const run = spawnSync("ssh", ["-V"], { encoding: "utf8" });
  return `${run.stderr ?? ""}${run.stdout ?? ""}`.trim().split(",")[0] || "OpenSSH (version unknown)";
}

/** Measures both ECC4x figures, on PGlite (and PostgreSQL when `databaseUrl` answers). */
export async function measureEcc4x(options: {
  quick: boolean;
  databaseUrl: string | null;
  /** The OpenSSH server to compare uploads with, when it is installed there. */
  sshd: string;
  log: Log;
}): Promise<Ecc4xFigures> {
  if (!existsSync(sftpClient))
    throw new Error(`the OpenSSH client ${sftpClient} is needed (apt-get install openssh-client)`);
  const rows = options.quick ? 300 : 2_000;
  const uploadBytes = (options.quick ? 16 : 64) * mib;
  const uploadRounds = options.quick ? 1 : 3;
  const [load] = loadavg();
  const reports: ReportRow[] = [];
  for (const backend of backends(options.databaseUrl)) {
    reports.push(...(await measureReports(backend, rows, options.log)));
  }
  const uploads = await measureUploads({
    bytes: uploadBytes,
    rounds: uploadRounds,
    sshd: options.sshd,
    log: options.log,
  });
  const machine = describeMachine({ connections: 1, warmupSeconds: 0, durationSeconds: 0, postgres: null });
  const notes: string[] = [];
  if (load !== undefined && load > machine.cores / 2) {
    notes.push(
      `The machine was busy when the run started (load average ${load.toFixed(1)} on ${machine.cores} cores): other work competed for the cores.`,
    );
  }
  return {
    machine,
    openSsh: openSshVersion(),
    rows,
    reports,
    uploadBytes,
    uploadRounds,
    uploads,
    notes,
  };
}

const fmt = formatFigure;

/** The generated section of docs/benchmarks.md. */
export function ecc4xSection(figures: Ecc4xFigures): string {
  const m = figures.machine;
  return [
    `Measured ${m.date} on ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB RAM, Node ${m.node}, ${figures.openSsh}; commit ${m.commit}. cqa in process with its loops off; the client is \`${sftpClient}\` in batch mode.`,
    "",
    ...tableLines(
      [
        { heading: "VLA report rows" },
        ...["rows", "rows/s", "ratio to batch endpoint"].map((heading) => ({ heading, numeric: true })),
        { heading: "note" },
      ],
      figures.reports.map((r) => [
        r.label,
        fmt(r.rows),
        fmt(r.perSecond),
        r.ratio === null ? "reference" : fmt(r.ratio, 3),
        r.note,
      ]),
    ),
    "",
    ...tableLines(
      [
        { heading: `SFTP upload of ${fmt(figures.uploadBytes / mib)} MiB (random bytes)` },
        { heading: "MiB/s", numeric: true },
        { heading: "cqa ÷ this", numeric: true },
        { heading: "cipher" },
        { heading: "note" },
      ],
      figures.uploads.map((r, i) => [
        r.label,
        fmt(r.mibPerSecond, 1),
        i === 0 ? "—" : fmt(r.ratio, 3),
        r.cipher ?? "—",
        r.note,
      ]),
    ),
    ...(figures.notes.length > 0 ? ["", ...figures.notes.map((n) => `- ${n}`)] : []),
  ].join("\n");
}
