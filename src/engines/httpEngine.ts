import { AppError, describeError } from "../core/errors.ts";

/** Where an OpenAI-compatible server is and how to treat it. */
export interface HttpEngineSettings {
  /** Base URL including the version path, e.g. `https://api.openai.com/v1` or `http://whisper:8080/v1`. */
  baseUrl: string;
  apiKey: string | null;
  model: string;
  /** Per request. */
  timeoutMs: number;
  /** Tries per request (429, 5xx, timeouts and connection errors are retried). */
  maxAttempts: number;
  /** Requests started per minute by this process; null = no limit. */
  requestsPerMinute: number | null;
}

/** Waiting, injectable so tests do not sleep. */
export interface Waiter {
  sleep(ms: number): Promise<void>;
  now(): number;
}

export const realWaiter: Waiter = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

/** Spaces requests so no more than `perMinute` start in any minute (a sliding window). */
export class RequestGate {
  readonly #perMinute: number | null;
  readonly #waiter: Waiter;
  #started: number[] = [];

  constructor(perMinute: number | null, waiter: Waiter) {
    this.#perMinute = perMinute;
    this.#waiter = waiter;
  }

  async acquire(): Promise<void> {
    const limit = this.#perMinute;
    if (limit === null) return;
    for (;;) {
      const now = this.#waiter.now();
      this.#started = this.#started.filter((t) => now - t < 60_000);
      if (this.#started.length < limit) {
        this.#started.push(now);
        return;
      }
      await this.#waiter.sleep(60_000 - (now - this.#started[0]!) + 1);
    }
  }
}

/** The longest a 429's Retry-After is honoured within one job; longer waits go back to the queue. */
const maxRetryAfterMs = 60_000;

export interface EngineResponse {
  status: number;
  body: unknown;
}

/**
 * POSTs to an OpenAI-compatible endpoint with the API key, a timeout per try, the rate gate, and
 * retries: 429 after its Retry-After (or back-off), 5xx, timeouts and connection failures with
 * back-off (1 s, 2 s, 4 s…). Other answers are final. Errors name the server, the status and the
 * server's own message, and say whether trying later may help.
 */
export async function postToEngine(
  settings: HttpEngineSettings,
  path: string,
  body: () => { payload: string | FormData; contentType?: string },
  context: { what: string; gate: RequestGate; waiter: Waiter },
): Promise<EngineResponse> {
  const url = `${settings.baseUrl.replace(/\/+$/, "")}${path}`;
  let lastProblem = "";
  let retryAfterSeconds: number | undefined;
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    await context.gate.acquire();
    const { payload, contentType } = body();
    const headers: Record<string, string> = { accept: "application/json" };
    if (contentType) headers["content-type"] = contentType;
    if (settings.apiKey) headers["authorization"] = `Bearer ${settings.apiKey}`;
    let waitMs = Math.min(1000 * 2 ** (attempt - 1), 30_000);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: payload,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      const text = await response.text();
      if (response.ok) return { status: response.status, body: parseJson(text) };
      const message = serverMessage(text);
      lastProblem = `${url} answered ${response.status}${message ? `: ${message}` : ""}`;
      if (response.status === 429) {
        const after = retryAfterMs(response.headers.get("retry-after"), context.waiter.now());
        if (after !== null) {
          retryAfterSeconds = Math.ceil(after / 1000);
          if (after > maxRetryAfterMs) break;
          waitMs = after;
        }
      } else if (response.status < 500) {
        throw new AppError(
          "ENGINE_FAILED",
          `${context.what} was refused: ${lastProblem}${hintFor(response.status)}`,
          {
            retryable: false,
          },
        );
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      const timedOut =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      lastProblem = timedOut
        ? `${url} did not answer within ${Math.round(settings.timeoutMs / 1000)} s`
        : `${url} could not be reached: ${describeError(error)}`;
    }
    if (attempt < settings.maxAttempts) await context.waiter.sleep(waitMs);
  }
  throw new AppError(
    "ENGINE_FAILED",
    `${context.what} failed after ${settings.maxAttempts} attempt(s): ${lastProblem}; it will be tried again later`,
    { retryable: true, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The `error.message` of an OpenAI-style error body, or the start of whatever came back. */
function serverMessage(text: string): string {
  const parsed = parseJson(text) as { error?: { message?: unknown } | string } | string;
  if (typeof parsed === "object" && parsed !== null) {
    const error = parsed.error;
    if (typeof error === "string") return error.slice(0, 300);
    if (typeof error?.message === "string") return error.message.slice(0, 300);
  }
  return String(text).trim().slice(0, 200);
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return " (check the API key setting)";
  if (status === 404) return " (check the base URL: it should end with the API version, e.g. /v1)";
  if (status === 413) return " (the audio is too large for this server)";
  return "";
}

/** Retry-After in seconds or as an HTTP date → milliseconds to wait. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
