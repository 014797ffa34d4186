// SIMULATOR of the Exolite (Exotel-style) bulk call details API, for tests and benchmarks only. The
// real system is proprietary; this follows the published API exactly where it is published:
//   GET /v1/Accounts/<sid>/Calls[.json] with HTTP Basic auth (API key : token)
//   DateCreated=gte:YYYY-MM-DD HH:mm:ss;lte:… (at most 1 month per request, at most 6 months old;
//   default the last 31 days), Status, Direction, Duration=gte:Ns;lte:Ns, PageSize (default 50,
//   max 100), SortBy=DateCreated:asc (default desc), cursor paging with Before/After taken from
//   Metadata.PrevPageUri / Metadata.NextPageUri; ongoing calls are never listed.
//   GET /v1/Accounts/<sid>/Calls/<CallSid>[.json] → {"Call": {...}}
//   Errors: {"RestException": {"Status", "Message", "Code"}}; 429 carries Retry-After.
//   Duration, EndTime and the recording are filled minutes after a call ends; RecordingUrl is served
//   with the account's credentials, PreSignedRecordingUrl expires after RecordingUrlValidity minutes.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { addLocalMonths, formatExoliteTime, parseExoliteTime } from "../../src/connectors/exolite/windows.ts";

/** One call the simulated account holds. */
export interface SimulatedCall {
  sid: string;
  createdAt: Date;
  status: "completed" | "failed" | "busy" | "no-answer" | "in-progress";
  direction: "inbound" | "outbound-dial" | "outbound-api";
  from: string;
  to: string;
  durationSeconds: number;
  hasRecording: boolean;
  /** Before this instant Duration, EndTime and the recording URLs are still empty (late-filled fields). */
  filledAt: Date;
}

export interface ExoliteSimulatorOptions {
  accountSid?: string;
  apiKey?: string;
  apiToken?: string;
  /** Zone of DateCreated / StartTime values. */
  timeZone?: string;
  /** The simulator's "now" (for the 6-month limit, late fields and URL expiry). */
  now?: () => Date;
  /** Delay before each answer of the calls API, so a run can be killed mid-way. */
  pageDelayMs?: number;
  /** The recording's bytes (a small WAV by default). */
  recording?: Buffer;
  /** false: recordings answer 404 (not published yet), so a test of the pull leaves the analysis idle. */
  recordingsPublished?: boolean;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A short silent WAV (8 kHz mono, 16-bit): a valid recording for the pipeline. */
export function silentWav(seconds = 1): Buffer {
  const samples = 8000 * seconds;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + samples * 2, 4);
  header.write("WAVE", 8);
  header.write("fmt ", 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(samples * 2, 40);
  return Buffer.concat([header, Buffer.alloc(samples * 2)]);
}

export interface ExoliteSimulator {
  url: string;
  accountSid: string;
  apiKey: string;
  apiToken: string;
  calls: SimulatedCall[];
  /** Adds calls spread evenly over [from, to). */
  addCalls(count: number, options: AddCallsOptions): SimulatedCall[];
  /** Adds one call as given (e.g. a Sid longer than cqa accepts, to test dead letters). */
  addCall(call: Partial<SimulatedCall> & { sid: string; createdAt: Date }): SimulatedCall;
  /** The next `n` calls-API requests answer 429 with Retry-After: `seconds`. */
  throttleNext(n: number, seconds?: number): void;
  /** Every calls-API request answers 503 while true (an outage). */
  setDown(down: boolean): void;
  stats: {
    listRequests: number;
    callRequests: number;
    rangeErrors: number;
    throttled: number;
    authFailures: number;
    recordingFetches: number;
    recordingAuthFailures: number;
    expiredPresigned: number;
  };
  close(): Promise<void>;
}

export interface AddCallsOptions {
  from: Date;
  to: Date;
  /** Every n-th call has no recording (missed, failed, recording off). Default 5. */
  noRecordingEvery?: number;
  /** Minutes after creation when late fields are filled. Default 5. */
  fillAfterMinutes?: number;
  prefix?: string;
}

function restException(
  response: ServerResponse,
  status: number,
  message: string,
  code: string,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify({ RestException: { Status: status, Message: message, Code: code } }));
}

/** Starts the simulator on 127.0.0.1 (random port). */
export async function startExoliteSimulator(
  options: ExoliteSimulatorOptions = {},
): Promise<ExoliteSimulator> {
  const accountSid = options.accountSid ?? "acme1";
  const apiKey = options.apiKey ?? "sim-api-key";
  const apiToken = options.apiToken ?? "sim-api-token";
  const timeZone = options.timeZone ?? "Asia/Kolkata";
  const now = options.now ?? (() => new Date());
  const recording = options.recording ?? silentWav();
  const signingKey = "simulator-presign-key";
  const calls: SimulatedCall[] = [];
  let throttle = { remaining: 0, seconds: 1 };
  let down = false;
  let sequence = 0;
  const stats = {
    listRequests: 0,
    callRequests: 0,
    rangeErrors: 0,
    throttled: 0,
    authFailures: 0,
    recordingFetches: 0,
    recordingAuthFailures: 0,
    expiredPresigned: 0,
  };
  let baseUrl = "";
  const expectedAuth = `Basic ${Buffer.from(`${apiKey}:${apiToken}`).toString("base64")}`;

  const presign = (sid: string, validityMinutes: number) => {
    const expires = Math.floor(now().getTime() / 1000) + validityMinutes * 60;
    const sig = createHmac("sha256", signingKey).update(`${sid}:${expires}`).digest("hex");
    return `${baseUrl}/presigned/${sid}.wav?X-Expires=${expires}&X-Signature=${sig}`;
  };

  const present = (call: SimulatedCall, validityMinutes: number) => {
    const filled = now() >= call.filledAt;
    const start = call.createdAt;
    const end = new Date(start.getTime() + call.durationSeconds * 1000);
    const recorded = filled && call.hasRecording;
    return {
      Sid: call.sid,
      ParentCallSid: null,
      DateCreated: formatExoliteTime(call.createdAt, timeZone),
      DateUpdated: formatExoliteTime(filled ? call.filledAt : call.createdAt, timeZone),
      AccountSid: accountSid,
      To: call.to,
      From: call.from,
      PhoneNumberSid: "08047112233",
      Status: call.status,
      StartTime: formatExoliteTime(start, timeZone),
      EndTime: filled ? formatExoliteTime(end, timeZone) : null,
      Duration: filled ? String(call.durationSeconds) : null,
      Price: filled ? "1.500" : null,
      Direction: call.direction,
      AnsweredBy: null,
      ForwardedFrom: null,
      CallerName: null,
      Uri: `/v1/Accounts/${accountSid}/Calls/${call.sid}`,
      RecordingUrl: recorded ? `${baseUrl}/recordings/${accountSid}/${call.sid}.wav` : null,
      PreSignedRecordingUrl: recorded ? presign(call.sid, validityMinutes) : null,
    };
  };

  const listCalls = (url: URL, response: ServerResponse) => {
    const params = url.searchParams;
    const pageSize = params.has("PageSize") ? Number(params.get("PageSize")) : 50;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      restException(response, 400, "PageSize must be a whole number from 1 to 100", "INVALID_PARAMETER");
      return;
    }
    const validity = params.has("RecordingUrlValidity") ? Number(params.get("RecordingUrlValidity")) : 60;
    if (!Number.isInteger(validity) || validity < 5 || validity > 60) {
      restException(response, 400, "RecordingUrlValidity must be between 5 and 60", "INVALID_PARAMETER");
      return;
    }
    let gte = new Date(now().getTime() - 31 * 86_400_000);
    let lte = now();
    const dateCreated = params.get("DateCreated");
    if (dateCreated) {
      const parts = Object.fromEntries(
        dateCreated.split(";").map((part) => {
          const at = part.indexOf(":");
          return [part.slice(0, at), part.slice(at + 1)];
        }),
      );
      const from = parts["gte"] ? parseExoliteTime(parts["gte"], timeZone) : null;
      const to = parts["lte"] ? parseExoliteTime(parts["lte"], timeZone) : null;
      if ((parts["gte"] && !from) || (parts["lte"] && !to)) {
        restException(
          response,
          400,
          "DateCreated must look like gte:YYYY-MM-DD HH:mm:ss;lte:YYYY-MM-DD HH:mm:ss",
          "INVALID_PARAMETER",
        );
        return;
      }
      if (from) gte = from;
      if (to) lte = to;
    }
    if (lte >= addLocalMonths(gte, 1, timeZone)) {
      stats.rangeErrors++;
      restException(response, 400, "DateCreated range cannot be more than 1 month", "INVALID_DATE_RANGE");
      return;
    }
    if (gte < addLocalMonths(now(), -6, timeZone)) {
      stats.rangeErrors++;
      restException(
        response,
        400,
        "Call records can be queried only up to 6 months old",
        "INVALID_DATE_RANGE",
      );
      return;
    }
    const status = params.get("Status");
    const direction = params.get("Direction");
    const duration = params.get("Duration");
    const durationBounds: { gte?: number; lte?: number; eq?: number } = {};
    for (const part of duration ? duration.split(";") : []) {
      const match = /^(gte|lte|eq):(\d+)s$/.exec(part);
      if (!match) {
        restException(response, 400, "Duration must look like gte:10s;lte:45s", "INVALID_PARAMETER");
        return;
      }
      durationBounds[match[1] as "gte" | "lte" | "eq"] = Number(match[2]);
    }
    const ascending = params.get("SortBy") === "DateCreated:asc";
    const second = (d: Date) => Math.floor(d.getTime() / 1000);
    const matching = calls
      .filter((c) => c.status !== "in-progress")
      .filter((c) => second(c.createdAt) >= second(gte) && second(c.createdAt) <= second(lte))
      .filter((c) => !status || c.status === status)
      .filter((c) => !direction || c.direction === direction)
      .filter((c) => {
        if (!duration) return true;
        if (now() < c.filledAt) return false;
        const d = c.durationSeconds;
        return (
          (durationBounds.gte === undefined || d >= durationBounds.gte) &&
          (durationBounds.lte === undefined || d <= durationBounds.lte) &&
          (durationBounds.eq === undefined || d === durationBounds.eq)
        );
      })
      .sort((a, b) => {
        const byTime = a.createdAt.getTime() - b.createdAt.getTime() || a.sid.localeCompare(b.sid);
        return ascending ? byTime : -byTime;
      });
    // Cursors are (DateCreated, Sid) of the edge row, so calls added meanwhile neither shift nor repeat rows.
    const after = params.get("After");
    let start = 0;
    if (after) {
      const [ms, sid] = Buffer.from(after, "base64url").toString("utf8").split("|") as [string, string];
      const key = (c: SimulatedCall) => [c.createdAt.getTime(), c.sid] as const;
      const cursor = [Number(ms), sid] as const;
      const isAfter = (c: SimulatedCall) => {
        const [t, s] = key(c);
        const cmp = t - cursor[0] || s.localeCompare(cursor[1]);
        return ascending ? cmp > 0 : cmp < 0;
      };
      start = matching.findIndex(isAfter);
      if (start === -1) start = matching.length;
    }
    const page = matching.slice(start, start + pageSize);
    const base = new URLSearchParams(params);
    base.delete("After");
    base.delete("Before");
    const path = `/v1/Accounts/${accountSid}/Calls.json`;
    const cursorOf = (c: SimulatedCall) =>
      Buffer.from(`${c.createdAt.getTime()}|${c.sid}`).toString("base64url");
    const withCursor = (name: string, value: string) => {
      const q = new URLSearchParams(base);
      q.set(name, value);
      return `${path}?${q.toString()}`;
    };
    const last = page.at(-1);
    const first = page[0];
    const hasMore = start + pageSize < matching.length;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        Metadata: {
          Total: matching.length,
          PageSize: pageSize,
          FirstPageUri: `${path}?${base.toString()}`,
          PrevPageUri: first && start > 0 ? withCursor("Before", cursorOf(first)) : null,
          NextPageUri: last && hasMore ? withCursor("After", cursorOf(last)) : null,
        },
        Calls: page.map((c) => present(c, validity)),
      }),
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://simulator");
    const path = url.pathname;
    if (path.startsWith("/recordings/")) {
      stats.recordingFetches++;
      if (request.headers.authorization !== expectedAuth) {
        stats.recordingAuthFailures++;
        restException(
          response,
          401,
          "Authentication is required to fetch recordings",
          "AUTHENTICATION_FAILED",
        );
        return;
      }
      const sid = /\/([^/]+)\.wav$/.exec(path)?.[1];
      const call = calls.find((c) => c.sid === sid);
      if (!call?.hasRecording || now() < call.filledAt || options.recordingsPublished === false) {
        restException(response, 404, "No recording for this call", "NOT_FOUND");
        return;
      }
      response.writeHead(200, { "content-type": "audio/wav", "content-length": recording.length });
      response.end(recording);
      return;
    }
    if (path.startsWith("/presigned/")) {
      stats.recordingFetches++;
      const sid = /\/([^/]+)\.wav$/.exec(path)?.[1] ?? "";
      const expires = Number(url.searchParams.get("X-Expires"));
      const sig = createHmac("sha256", signingKey).update(`${sid}:${expires}`).digest("hex");
      if (url.searchParams.get("X-Signature") !== sig) {
        response.writeHead(403, { "content-type": "application/xml" });
        response.end("<Error><Code>SignatureDoesNotMatch</Code></Error>");
        return;
      }
      if (expires < Math.floor(now().getTime() / 1000)) {
        stats.expiredPresigned++;
        response.writeHead(403, { "content-type": "application/xml" });
        response.end("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
        return;
      }
      response.writeHead(200, { "content-type": "audio/wav", "content-length": recording.length });
      response.end(recording);
      return;
    }
    const match = /^\/v1\/Accounts\/([^/]+)\/Calls(?:\/([^/.]+))?(?:\.json)?$/.exec(path);
    if (!match) {
      restException(response, 404, "Not found", "NOT_FOUND");
      return;
    }
    if (request.headers.authorization !== expectedAuth) {
      stats.authFailures++;
      restException(response, 401, "Authentication failed", "AUTHENTICATION_FAILED");
      return;
    }
    if (match[1] !== accountSid) {
      restException(response, 403, "The credentials have no access to this account", "FORBIDDEN");
      return;
    }
    if (down) {
      restException(response, 503, "Service unavailable", "SERVICE_UNAVAILABLE");
      return;
    }
    if (throttle.remaining > 0) {
      throttle.remaining--;
      stats.throttled++;
      restException(
        response,
        429,
        `Rate limit exceeded. Try again in ${throttle.seconds} seconds.`,
        "RATE_LIMIT_EXCEEDED",
        { "retry-after": String(throttle.seconds) },
      );
      return;
    }
    if (options.pageDelayMs) await new Promise((resolve) => setTimeout(resolve, options.pageDelayMs));
    if (match[2]) {
      stats.callRequests++;
      const call = calls.find((c) => c.sid === match[2]);
      if (!call) {
        restException(response, 404, `Call ${match[2]} not found`, "NOT_FOUND");
        return;
      }
      const validity = url.searchParams.has("RecordingUrlValidity")
        ? Number(url.searchParams.get("RecordingUrlValidity"))
        : 60;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ Call: present(call, validity) }));
      return;
    }
    stats.listRequests++;
    listCalls(url, response);
  };

  const server: Server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      handle(request, response).catch(() => {
        if (!response.headersSent) restException(response, 500, "Internal error", "INTERNAL");
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    accountSid,
    apiKey,
    apiToken,
    calls,
    stats,
    addCalls(count, add) {
      const added: SimulatedCall[] = [];
      const span = add.to.getTime() - add.from.getTime();
      const every = add.noRecordingEvery ?? 5;
      for (let i = 0; i < count; i++) {
        const n = sequence++;
        // Whole seconds, as the API stores them.
        const createdAt = new Date(Math.floor((add.from.getTime() + (span * i) / count) / 1000) * 1000);
        const call: SimulatedCall = {
          sid: `${add.prefix ?? "c"}${n.toString(16).padStart(8, "0")}${pad(n % 97)}`,
          createdAt,
          status: "completed",
          direction: n % 3 === 0 ? "outbound-api" : "inbound",
          from: `0984${String(1_000_000 + (n % 1_000_000)).slice(1)}`,
          to: "08047112233",
          durationSeconds: 30 + (n % 300),
          hasRecording: every > 0 ? n % every !== every - 1 : true,
          filledAt: new Date(createdAt.getTime() + (add.fillAfterMinutes ?? 5) * 60_000),
        };
        calls.push(call);
        added.push(call);
      }
      return added;
    },
    addCall(partial) {
      const call: SimulatedCall = {
        status: "completed",
        direction: "inbound",
        from: "09840000000",
        to: "08047112233",
        durationSeconds: 60,
        hasRecording: true,
        filledAt: partial.createdAt,
        ...partial,
      };
      calls.push(call);
      return call;
    },
    throttleNext(n, seconds = 1) {
      throttle = { remaining: n, seconds };
    },
    setDown(value) {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
