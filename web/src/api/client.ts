// The one way the dashboard talks to cqa: its own REST API, with the session cookie and, on every
// change, the session's CSRF token. Errors keep the API's code and message (written for people).

/** An error answer of the API: its HTTP status, stable code and the message to show. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, details: unknown, requestId: string | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

interface Credentials {
  csrfToken: string | null;
  /** In embedded mode a bearer token may stand in for the cookie (signed embed links). */
  bearer: string | null;
}

const credentials: Credentials = { csrfToken: null, bearer: null };
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  credentials.csrfToken = token;
}

export function setBearerToken(token: string | null): void {
  credentials.bearer = token;
}

/** Headers that authenticate a plain `fetch` (downloads) the way `api` does. */
export function authHeaders(): Record<string, string> {
  return credentials.bearer ? { authorization: `Bearer ${credentials.bearer}` } : {};
}

/** Called when a request answers 401 (the session expired or was signed out elsewhere). */
export function onSessionLost(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  /** Do not treat a 401 as a lost session (sign-in itself). */
  quietUnauthorized?: boolean;
}

/** Builds `/api/v1/...` with a query string, leaving out empty values. */
export function apiUrl(path: string, query?: RequestOptions["query"]): string {
  const url = path.startsWith("/api/") ? path : `/api/v1${path}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${url}?${text}` : url;
}

/** Calls the API and answers `data` of the envelope; throws ApiError on an error answer. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (credentials.bearer) headers["authorization"] = `Bearer ${credentials.bearer}`;
  else if (method !== "GET" && credentials.csrfToken) headers["x-csrf-token"] = credentials.csrfToken;
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), init);
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(
      0,
      "NETWORK",
      "cqa did not answer: check that it is running and reachable.",
      null,
      null,
    );
  }
  const text = await response.text();
  let envelope: {
    data?: unknown;
    message?: string;
    error?: { code?: string; details?: unknown };
    request_id?: string;
  } = {};
  try {
    envelope = text ? JSON.parse(text) : {};
  } catch {
    envelope = {};
  }
  if (!response.ok) {
    const error = new ApiError(
      response.status,
      envelope.error?.code ?? `HTTP_${response.status}`,
      envelope.message ?? `cqa answered ${response.status} ${response.statusText}`,
      envelope.error?.details,
      envelope.request_id ?? null,
    );
    if (response.status === 401 && !options.quietUnauthorized) onUnauthorized?.();
    throw error;
  }
  return envelope.data as T;
}

/** Path of an account's resource: `/accounts/{id}/...`. */
export function accountPath(accountId: string, rest = ""): string {
  return `/accounts/${accountId}${rest}`;
}
