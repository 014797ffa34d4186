import { lookup as systemLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { Readable } from "node:stream";
import { AppError, describeError, isAppError } from "../core/errors.ts";
import type { FetchAllowList } from "./allowList.ts";
import { bareIp, isPrivateAddress } from "./ipAddress.ts";

/** Resolves a host name to the addresses a connection may go to. */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** Limits and request details of one outbound fetch. */
export interface SafeFetchOptions {
  /** Private hosts and ranges the operator allows; everything private is refused otherwise. */
  allow: FetchAllowList;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Time for the whole fetch, redirects and body included. Default 30 000. */
  timeoutMs?: number;
  /** Largest body accepted. Default 100 MiB. */
  maxBytes?: number;
  /** Redirects followed; 0 returns the 3xx answer as it is. Default 5. */
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Name resolution; defaults to the system resolver. Tests use it to point a name at an address. */
  resolveHost?: HostResolver;
}

/** A fetched answer with its whole body. */
export interface SafeResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The URL finally answered, after redirects. */
  url: string;
  body: Buffer;
}

/** A fetched answer whose body is still arriving. */
export interface SafeStreamResponse {
  status: number;
  headers: Record<string, string>;
  url: string;
  /** Errors with FETCH_FAILED if the body exceeds maxBytes, the time runs out or the peer drops. */
  body: Readable;
}

/** Why a fetch failed, in `AppError.details.kind` of FETCH_FAILED errors. */
export type FetchFailureKind =
  | "timeout"
  | "cancelled"
  | "network"
  | "too_large"
  | "too_many_redirects"
  | "bad_redirect"
  | "bad_request";

const defaultTimeoutMs = 30_000;
const defaultMaxBytes = 100 * 1024 * 1024;
const defaultMaxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

// Shared so repeated fetches to one host reuse connections. Each request still checks the address
// of the socket it is given (see guardConnection), so a connection opened under one allow list is
// never reused by a fetch whose allow list refuses that address.
const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });

const resolveWithSystem: HostResolver = async (hostname) =>
  (await systemLookup(hostname, { all: true })).map((entry) => entry.address);

/** Fetches a URL on the public internet (or an allowed private host) and reads the whole body. */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<SafeResponse> {
  const response = await safeFetchStream(url, options);
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  return { ...response, body: Buffer.concat(chunks) };
}

/**
 * Fetches a URL like `safeFetch` but hands the body over as a stream, for large downloads.
 * HTTP error statuses are returned, not thrown; callers decide what a 404 means to them.
 */
export async function safeFetchStream(url: string, options: SafeFetchOptions): Promise<SafeStreamResponse> {
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  const maxRedirects = options.maxRedirects ?? defaultMaxRedirects;
  const deadline = startDeadline(url, options.timeoutMs ?? defaultTimeoutMs, options.signal);
  try {
    let target = parseFetchUrl(url);
    let method = (options.method ?? "GET").toUpperCase();
    let body = options.body;
    let headers = withDefaultHeaders(options.headers ?? {}, body);
    for (let redirects = 0; ; redirects++) {
      const label =
        redirects === 0
          ? describeUrl(target)
          : `${describeUrl(target)} (redirected from ${describeUrl(url)})`;
      const response = await sendRequest(target, {
        method,
        headers,
        body,
        label,
        options,
        signal: deadline.signal,
      });
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (!redirectStatuses.has(status) || location === undefined || maxRedirects === 0) {
        return {
          status,
          headers: flattenHeaders(response.headers),
          url: target.href,
          body: limitBody(response, {
            maxBytes,
            label,
            // A HEAD answer's Content-Length describes a body that is not sent.
            trustContentLength: method !== "HEAD",
            signal: deadline.signal,
            onSettled: deadline.dispose,
          }),
        };
      }
      // Not reading a redirect's body: drop it (and its connection) rather than wait for it.
      response.destroy();
      if (redirects >= maxRedirects) {
        throw fetchFailed(`Fetching ${describeUrl(url)} was redirected more than ${maxRedirects} times`, {
          kind: "too_many_redirects",
          retryable: false,
        });
      }
      const next = redirectTarget(location, target, label);
      if (status === 303 ? method !== "HEAD" : (status === 301 || status === 302) && method === "POST") {
        method = "GET";
        body = undefined;
        headers = withoutHeaders(headers, ["content-length", "content-type", "transfer-encoding"]);
      }
      // Credentials were meant for the first server only.
      if (next.origin !== target.origin) headers = withoutHeaders(headers, ["authorization", "cookie"]);
      target = next;
    }
  } catch (error) {
    deadline.dispose();
    throw error;
  }
}

/** The kind of a FETCH_FAILED error raised by safeFetch, or null for anything else. */
export function fetchFailureKind(error: unknown): FetchFailureKind | null {
  if (!isAppError(error) || error.code !== "FETCH_FAILED") return null;
  const details = error.details as { kind?: FetchFailureKind } | undefined;
  return details?.kind ?? null;
}

interface Deadline {
  signal: AbortSignal;
  dispose(): void;
}

/** One timer for the whole fetch, merged with the caller's cancel signal. */
function startDeadline(url: string, timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const error = fetchFailed(`No answer from ${describeUrl(url)} within ${formatSeconds(timeoutMs)}`, {
      kind: "timeout",
      retryable: true,
    });
    controller.abort(error);
  }, timeoutMs);
  const onCallerAbort = (): void => {
    const error = fetchFailed(`Fetching ${describeUrl(url)} was cancelled`, {
      kind: "cancelled",
      retryable: true,
      cause: callerSignal?.reason,
    });
    controller.abort(error);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

/** Parses a URL to fetch, refusing every scheme but http and https. */
function parseFetchUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new AppError("FETCH_REFUSED", `Cannot fetch '${url.slice(0, 200)}': it is not a valid URL`, {
      cause: error,
    });
  }
  assertFetchableScheme(parsed, describeUrl(parsed));
  return parsed;
}

function assertFetchableScheme(url: URL, label: string): void {
  if (url.protocol === "http:" || url.protocol === "https:") return;
  if (url.protocol === "s3:") {
    throw new AppError(
      "FETCH_REFUSED",
      `Cannot fetch ${label}: s3:// URLs need the account's S3 credentials and are not supported for this fetch yet; give an https:// URL (a pre-signed one works)`,
    );
  }
  throw new AppError("FETCH_REFUSED", `Cannot fetch ${label}: only http:// and https:// URLs can be fetched`);
}

function redirectTarget(location: string, from: URL, label: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch (error) {
    throw fetchFailed(`${label} redirected to '${location.slice(0, 200)}', which is not a valid URL`, {
      kind: "bad_redirect",
      retryable: false,
      cause: error,
    });
  }
  assertFetchableScheme(next, `${describeUrl(next)} (redirected from ${label})`);
  return next;
}

interface RequestPlan {
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** How the URL appears in messages. */
  label: string;
  options: SafeFetchOptions;
  signal: AbortSignal;
}

/** One HTTP exchange up to the response headers, on a connection whose address was checked. */
function sendRequest(target: URL, plan: RequestPlan): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { signal, label } = plan;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const hostname = bareIp(target.hostname);
    const guard = connectionGuard(hostname, label, plan.options);
    // Connecting to an IP literal skips the lookup, so the literal is judged here.
    const literalRefusal = isIP(hostname) === 0 ? null : guard.refusalFor(hostname);
    if (literalRefusal !== null) {
      reject(literalRefusal);
      return;
    }
    const secure = target.protocol === "https:";
    let request: http.ClientRequest;
    try {
      request = (secure ? https : http).request({
        hostname,
        port: target.port === "" ? (secure ? 443 : 80) : Number(target.port),
        path: `${target.pathname}${target.search}`,
        method: plan.method,
        headers: plan.headers,
        agent: secure ? httpsAgent : httpAgent,
        lookup: guard.lookup,
        ...(target.username === "" ? {} : { auth: userInfo(target) }),
      });
    } catch (error) {
      reject(
        fetchFailed(`Could not send a request to ${label}: ${describeError(error)}`, {
          kind: "bad_request",
          retryable: false,
          cause: error,
        }),
      );
      return;
    }
    const onAbort = (): void => {
      request.destroy(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    request.on("socket", (socket: Socket) => guard.watch(socket, request));
    request.on("response", (response) => {
      signal.removeEventListener("abort", onAbort);
      resolve(response);
    });
    request.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(isAppError(error) ? error : networkFailure(label, error));
    });
    request.end(plan.body);
  });
}

interface ConnectionGuard {
  /** The refusal for connecting to `address`, or null when it may be used. */
  refusalFor(address: string): AppError | null;
  /** Resolves the host and passes on only the addresses that may be connected to. */
  lookup: LookupFunction;
  /** Refuses the request if its (possibly reused) socket is connected to a refused address. */
  watch(socket: Socket, request: http.ClientRequest): void;
}

/** The address check of one request, applied where the connection is actually made. */
function connectionGuard(hostname: string, label: string, options: SafeFetchOptions): ConnectionGuard {
  const { allow } = options;
  const resolveHost = options.resolveHost ?? resolveWithSystem;

  const refusalFor = (address: string): AppError | null => {
    if (!isPrivateAddress(address) || allow.allowsHost(hostname) || allow.allowsAddress(address)) return null;
    const ip = bareIp(address);
    const isName = isIP(hostname) === 0;
    const what = isName
      ? `${hostname} resolves to ${ip}, a private/loopback address`
      : `${ip} is a private/loopback address`;
    const example = isName ? hostname : ip.startsWith("127.") ? "127.0.0.1/8" : ip;
    return new AppError(
      "FETCH_REFUSED",
      `Refused to fetch ${label}: ${what}. If this host is yours, allow it with CQA_FETCH_ALLOW (e.g. CQA_FETCH_ALLOW=${example})`,
    );
  };

  const lookup: LookupFunction = (name, lookupOptions, callback) => {
    const family =
      lookupOptions.family === "IPv4" ? 4 : lookupOptions.family === "IPv6" ? 6 : lookupOptions.family;
    resolveHost(name).then(
      (resolved) => {
        const candidates = resolved.filter((address) => !family || isIP(address) === family);
        // Connect only to permitted addresses, so a name that also resolves privately cannot lead inside.
        const permitted = candidates.filter((address) => refusalFor(address) === null);
        const first = permitted[0];
        if (first === undefined) {
          const refusedAddress = candidates[0];
          callback(
            refusedAddress === undefined
              ? Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}: no usable address`), {
                  code: "ENOTFOUND",
                })
              : refusalFor(refusedAddress),
            "",
          );
          return;
        }
        if (lookupOptions.all) {
          callback(
            null,
            permitted.map((address) => ({ address, family: isIP(address) })),
          );
        } else {
          callback(null, first, isIP(first));
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, ""),
    );
  };

  const watch = (socket: Socket, request: http.ClientRequest): void => {
    const check = (): void => {
      const address = socket.remoteAddress;
      const refusal = address === undefined ? null : refusalFor(address);
      if (refusal !== null) request.destroy(refusal);
    };
    if (socket.connecting) socket.once("connect", check);
    else check();
  };

  return { refusalFor, lookup, watch };
}

interface BodyLimits {
  maxBytes: number;
  label: string;
  trustContentLength: boolean;
  signal: AbortSignal;
  /** Called once when the body has ended, failed or been dropped by the reader. */
  onSettled: () => void;
}

/** The response body, failing once it grows past maxBytes or the fetch's time runs out. */
function limitBody(response: http.IncomingMessage, limits: BodyLimits): Readable {
  const { maxBytes, label, signal } = limits;
  const declared = Number(response.headers["content-length"]);
  if (limits.trustContentLength && Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    limits.onSettled();
    throw tooLarge(label, `announces ${declared} bytes`, maxBytes);
  }

  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    signal.removeEventListener("abort", onAbort);
    limits.onSettled();
  };
  const body = new Readable({
    read() {
      response.resume();
    },
    destroy(error, callback) {
      settle();
      // Dropping the body early must not leave the rest arriving on a pooled connection.
      if (!response.complete) response.destroy();
      callback(error);
    },
  });
  const onAbort = (): void => {
    body.destroy(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });

  let received = 0;
  response.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) body.destroy(tooLarge(label, `sent more than ${maxBytes} bytes`, maxBytes));
    else if (!body.push(chunk)) response.pause();
  });
  response.on("end", () => {
    settle();
    body.push(null);
  });
  response.on("error", (error) => body.destroy(networkFailure(label, error)));
  response.on("close", () => {
    if (!response.complete && !body.destroyed) {
      body.destroy(networkFailure(label, new Error("the connection closed before the whole body arrived")));
    }
  });
  return body;
}

function tooLarge(label: string, what: string, maxBytes: number): AppError {
  return fetchFailed(`${label} ${what}, over the limit of ${maxBytes} bytes`, {
    kind: "too_large",
    retryable: false,
  });
}

function networkFailure(label: string, error: unknown): AppError {
  return fetchFailed(`Could not fetch ${label}: ${describeError(error)}`, {
    kind: "network",
    retryable: true,
    cause: error,
  });
}

function fetchFailed(
  message: string,
  options: { kind: FetchFailureKind; retryable: boolean; cause?: unknown },
): AppError {
  return new AppError("FETCH_FAILED", message, {
    retryable: options.retryable,
    details: { kind: options.kind },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** A URL for messages and logs: no user info, and the query (often a signature) left out. */
function describeUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return `'${String(url).slice(0, 200)}'`;
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === "" ? "" : "?…"}`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function userInfo(url: URL): string {
  return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
}

function withDefaultHeaders(
  headers: Record<string, string>,
  body: string | Buffer | undefined,
): Record<string, string> {
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const result = { ...headers };
  if (!names.has("user-agent")) result["User-Agent"] = "cqa-fetch/1";
  if (body !== undefined && !names.has("content-length"))
    result["Content-Length"] = String(Buffer.byteLength(body));
  return result;
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return result;
}
