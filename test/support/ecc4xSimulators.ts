// SIMULATORS of the proprietary ECC4x peers, for tests, the benchmark and demos — not the real thing.
// The real ECC4x Voice Log API, App Server API and VLA module are closed systems; these follow the
// default shapes cqa documents in docs/integrations/ecc4x.md (column set, paths, paging), so the
// connectors' configuration defaults are exercised as an IT team would set them up.
//   - startVoiceLogSimulator: recordings by call SID, with auth and scripted faults (404 for a while,
//     500s, slow answers);
//   - startAppServerSimulator: a paged call list (offset, page or cursor paging; time or id cursor);
//   - VLA uploader: writes the daily report CSV and uploads it with a real SFTP client (the OpenSSH
//     `sftp` program in batch mode, or ssh2-sftp-client).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalServer, type ReceivedRequest, startLocalServer } from "./httpPeers.ts";

/** One call as the ECC4x side knows it. */
export interface SimulatedCall {
  call_sid: string;
  agent_id: string;
  agent_name: string;
  campaign: string;
  queue: string;
  direction: string;
  customer_number: string;
  /** Local time, `yyyy-MM-dd HH:mm:ss`. */
  start_time: string;
  /** Local time, `yyyy-MM-dd HH:mm:ss`; the App Server API's cursor. */
  end_time: string;
  duration: number;
  disposition: string;
  /** An extra column the VLA report carries; it becomes metadata. */
  crm_ticket: string;
}

const agents = [
  { id: "agent-42", name: "Priya Sharma" },
  { id: "agent-7", name: "Tom Becker" },
  { id: "agent-19", name: "Lena Okafor" },
];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** A deterministic call: `i` picks the agent, queue and times (one call a minute from 09:00). */
export function simulatedCall(prefix: string, i: number, day = "2026-04-01"): SimulatedCall {
  const agent = agents[i % agents.length]!;
  const startMinute = 9 * 60 + i;
  // Under a minute, so calls end in the order they start (the App Server lists them by end time).
  const duration = 20 + ((i * 37) % 39);
  const endSeconds = startMinute * 60 + duration;
  const time = (seconds: number) =>
    `${day} ${pad(Math.floor(seconds / 3600) % 24)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  return {
    call_sid: `${prefix}${pad(i, 6)}`,
    agent_id: agent.id,
    agent_name: agent.name,
    campaign: i % 2 === 0 ? "retention" : "billing",
    queue: i % 3 === 0 ? "priority" : "general",
    direction: i % 4 === 0 ? "outbound" : "inbound",
    customer_number: `+9198${pad((i * 7919) % 100_000_000, 8)}`,
    start_time: time(startMinute * 60),
    end_time: time(endSeconds),
    duration,
    disposition: i % 5 === 0 ? "callback" : "resolved",
    crm_ticket: `T-${10_000 + i}`,
  };
}

const reportColumns = [
  "call_sid",
  "agent_id",
  "agent_name",
  "campaign",
  "queue",
  "direction",
  "customer_number",
  "start_time",
  "duration",
  "disposition",
  "crm_ticket",
] as const;

/** The VLA module's daily report (the default column set, comma-separated, CRLF like the real exports). */
export function vlaReport(calls: readonly SimulatedCall[], extraLines: readonly string[] = []): string {
  const lines = [reportColumns.join(",")];
  for (const call of calls) lines.push(reportColumns.map((c) => String(call[c])).join(","));
  lines.push(...extraLines);
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * A recorded call: the speech fixture (an agent and a customer, synthesised by flite) when the repo
 * has it, so the analysis has speech to measure; otherwise a tone.
 */
export function simulatedRecording(seed: number): Buffer {
  if (existsSync(speechFixture)) return readFileSync(speechFixture);
  return toneRecording(seed, 3);
}

const speechFixture = fileURLToPath(new URL("../fixtures/audio/mono-call.wav", import.meta.url));

/** A mono 8 kHz WAV tone, different per call. */
export function toneRecording(seed: number, seconds = 0.5): Buffer {
  const rate = 8000;
  const samples = Math.round(seconds * rate);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVE", 8);
  wav.write("fmt ", 12);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(samples * 2, 40);
  const frequency = 200 + (seed % 50) * 10;
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * frequency * i) / rate) * 3000), 44 + i * 2);
  }
  return wav;
}

/** Scripted behaviour of the Voice Log API for one call SID. */
export type RecordingFault =
  /** Not published yet: 404 for the next `times` requests, then the recording. */
  | { kind: "not_ready"; times: number }
  /** A failing server: `status` for the next `times` requests. */
  | { kind: "error"; status: number; times: number }
  /** A slow server: the next `times` answers take `ms` (the connector's time-out should cut them). */
  | { kind: "slow"; ms: number; times: number };

export interface VoiceLogSimulator extends LocalServer {
  /** Publishes recordings for these call SIDs. */
  publish(...callSids: string[]): void;
  fault(callSid: string, fault: RecordingFault): void;
  /** Successful downloads per call SID. */
  served: Map<string, number>;
  /** Requests that carried wrong or no credentials. */
  unauthorized(): number;
  /** While down, every request answers 503. */
  setDown(down: boolean): void;
  config(overrides?: Record<string, unknown>): Record<string, unknown>;
}

/**
 * SIMULATOR of the ECC4x Voice Log API: `GET /voicelog/recordings/{call_sid}` with HTTP Basic auth
 * answers the call's WAV recording; unknown call SIDs answer 404.
 */
export async function startVoiceLogSimulator(
  credentials = { username: "cqa", password: "voice-log-secret-1" },
): Promise<VoiceLogSimulator> {
  const published = new Map<string, Buffer>();
  const faults = new Map<string, RecordingFault>();
  const served = new Map<string, number>();
  let unauthorized = 0;
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  const state = { down: false };
  const server = await startLocalServer(async (request: ReceivedRequest, response: ServerResponse) => {
    if (state.down) {
      response.statusCode = 503;
      response.end("down for maintenance");
      return;
    }
    if (request.headers.authorization !== expected) {
      unauthorized++;
      response.statusCode = 401;
      response.end("unauthorized");
      return;
    }
    const match = /^\/voicelog\/recordings\/([^/?]+)$/.exec(request.path);
    if (!match) {
      response.statusCode = 404;
      response.end("no such endpoint");
      return;
    }
    const sid = decodeURIComponent(match[1]!);
    const fault = faults.get(sid);
    if (fault && fault.times > 0) {
      fault.times--;
      if (fault.kind === "not_ready") {
        response.statusCode = 404;
        response.end("recording not available yet");
        return;
      }
      if (fault.kind === "error") {
        response.statusCode = fault.status;
        response.end("voice log failure");
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (response.destroyed) return;
    }
    const recording = published.get(sid);
    if (!recording) {
      response.statusCode = 404;
      response.end("unknown call");
      return;
    }
    served.set(sid, (served.get(sid) ?? 0) + 1);
    response.setHeader("content-type", "audio/wav");
    response.end(recording);
  });
  let seed = 0;
  return {
    ...server,
    publish(...callSids) {
      for (const sid of callSids) published.set(sid, simulatedRecording(seed++));
    },
    fault(callSid, fault) {
      faults.set(callSid, { ...fault });
    },
    served,
    unauthorized: () => unauthorized,
    setDown(down) {
      state.down = down;
    },
    config: (overrides = {}) => ({
      base_url: `${server.url}/voicelog`,
      path_template: "/recordings/{call_sid}",
      auth: { type: "basic", username: credentials.username, password: credentials.password },
      timeout_seconds: 5,
      retries: 2,
      retry_backoff_seconds: 0.05,
      ...overrides,
    }),
  };
}

export interface AppServerSimulator extends LocalServer {
  add(...calls: SimulatedCall[]): void;
  /** A raw row (e.g. one without a call SID), at the end of the list. */
  addRaw(row: Record<string, unknown>): void;
  /** The next `n` requests answer 503. */
  failNext(n: number): void;
  /** Pages served (answers with rows). */
  pagesServed(): number;
  /** Each answer waits this long (to hold a poll mid-way in crash tests). */
  delayMs: number;
  config(overrides?: Record<string, unknown>): Record<string, unknown>;
}

/**
 * SIMULATOR of the ECC4x App Server API's call list: `GET /api/calls?since=<end_time>&limit=&offset=`
 * (bearer token) answers `{"calls": [...], "total": N}` with the calls that ended at or after `since`,
 * oldest first; `page`/`page_size` and `cursor`/`next_cursor` paging are served too.
 */
export async function startAppServerSimulator(token = "app-server-token-1"): Promise<AppServerSimulator> {
  const rows: Record<string, unknown>[] = [];
  let failures = 0;
  let pages = 0;
  const state = { delayMs: 0 };
  const server = await startLocalServer(async (request, response) => {
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.statusCode = 401;
      response.end("{}");
      return;
    }
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    if (failures > 0) {
      failures--;
      response.statusCode = 503;
      response.end("{}");
      return;
    }
    const url = new URL(request.path, "http://app-server");
    if (url.pathname !== "/api/calls") {
      response.statusCode = 404;
      response.end("{}");
      return;
    }
    const since = url.searchParams.get("since");
    const sorted = rows
      .filter((r) => since === null || String(r["end_time"]) >= since)
      .sort(
        (a, b) =>
          String(a["end_time"]).localeCompare(String(b["end_time"])) ||
          String(a["call_sid"]).localeCompare(String(b["call_sid"])),
      );
    const limit = Number(url.searchParams.get("limit") ?? url.searchParams.get("page_size") ?? 100);
    let start = 0;
    if (url.searchParams.has("offset")) start = Number(url.searchParams.get("offset"));
    else if (url.searchParams.has("page")) start = (Number(url.searchParams.get("page")) - 1) * limit;
    else if (url.searchParams.has("cursor"))
      start = Number(Buffer.from(url.searchParams.get("cursor")!, "base64url").toString());
    const slice = sorted.slice(start, start + limit);
    const end = start + slice.length;
    if (slice.length > 0) pages++;
    response.setHeader("content-type", "application/json");
    response.end(
      JSON.stringify({
        calls: slice,
        total: sorted.length,
        next_cursor: end < sorted.length ? Buffer.from(String(end)).toString("base64url") : null,
      }),
    );
  });
  return {
    ...server,
    add(...calls) {
      for (const call of calls) rows.push({ ...call });
    },
    addRaw(row) {
      rows.push(row);
    },
    failNext(n) {
      failures = n;
    },
    pagesServed: () => pages,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    config: (overrides = {}) => ({
      app_server: { base_url: server.url, path: "/api/calls", auth: { type: "bearer", token } },
      cursor: { type: "time", field: "end_time", param: "since" },
      paging: { style: "offset", page_size: 50 },
      date_format: "yyyy-MM-dd HH:mm:ss",
      time_zone: "Asia/Kolkata",
      ...overrides,
    }),
  };
}

/** Where and as whom the VLA uploader logs in. */
export interface SftpTarget {
  host: string;
  port: number;
  username: string;
  /** Password login (ssh2-sftp-client, or OpenSSH through SSH_ASKPASS). */
  password?: string;
  /** Private key file for OpenSSH, or the key itself for ssh2-sftp-client. */
  privateKeyPath?: string;
  /** `ssh-ed25519 AAAA…` of the endpoint, pinned in known_hosts. */
  hostKey: string;
}

/** What the OpenSSH client printed and how it exited. */
export interface SftpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the OpenSSH `sftp` client in batch mode (`-b`) with the given commands against the endpoint,
 * with its host key pinned (StrictHostKeyChecking=yes). A password is given through SSH_ASKPASS (batch
 * mode would refuse to prompt), a key through -i. `extraArgs` go before the destination (e.g. `-v`).
 */
export function openSshSftp(
  target: SftpTarget,
  commands: readonly string[],
  cwd?: string,
  extraArgs: readonly string[] = [],
): Promise<SftpRun> {
  const dir = mkdtempSync(join(tmpdir(), "cqa-sftp-client-"));
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[${target.host}]:${target.port} ${target.hostKey}\n`);
  const batch = join(dir, "batch");
  writeFileSync(batch, `${commands.join("\n")}\n`);
  const env: NodeJS.ProcessEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir };
  const args = [
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "NumberOfPasswordPrompts=1",
    "-P",
    String(target.port),
  ];
  if (target.privateKeyPath) {
    args.push(
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "PreferredAuthentications=publickey",
      "-i",
      target.privateKeyPath,
    );
  } else {
    const askpass = join(dir, "askpass");
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' "$CQA_TEST_SFTP_PASSWORD"\n`, { mode: 0o700 });
    env["SSH_ASKPASS"] = askpass;
    env["SSH_ASKPASS_REQUIRE"] = "force";
    env["DISPLAY"] = "none";
    env["CQA_TEST_SFTP_PASSWORD"] = target.password ?? "";
    args.push(
      "-o",
      "PreferredAuthentications=password",
      "-o",
      "PubkeyAuthentication=no",
      "-o",
      "BatchMode=no",
    );
  }
  args.push(...extraArgs, "-b", batch, `${target.username}@${target.host}`);
  return new Promise((resolve) => {
    const child = spawn("sftp", args, { env, cwd: cwd ?? dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Writes a report file into a fresh folder (for `put` by the OpenSSH client). */
export function reportFile(name: string, content: string | Buffer): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "cqa-vla-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return { dir, path };
}
