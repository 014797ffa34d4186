import { AppError, describeError, isAppError } from "../../core/errors.ts";
import type { FetchAllowList } from "../../net/allowList.ts";
import { fetchFailureKind, type SafeStreamResponse, safeFetchStream } from "../../net/safeFetch.ts";
import type { ConnectionCheck } from "../connector.ts";
import { authHeaders, type HttpAuth, type VoiceLogConfig } from "./config.ts";

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 5;

/**
 * GET with an ECC4x API's credentials. Redirects are followed here, not by safeFetch, so that every
 * credential header — not only Authorization — stays with the API's own origin.
 */
export async function getWithAuth(
  url: string,
  options: {
    allow: FetchAllowList;
    auth: HttpAuth;
    timeoutMs: number;
    maxBytes?: number;
    signal?: AbortSignal | undefined;
    accept?: string;
  },
): Promise<SafeStreamResponse> {
  const origin = new URL(url).origin;
  let target = url;
  for (let hop = 0; ; hop++) {
    const sameOrigin = new URL(target).origin === origin;
    const response = await safeFetchStream(target, {
      allow: options.allow,
      timeoutMs: options.timeoutMs,
      maxRedirects: 0,
      headers: {
        ...(options.accept ? { accept: options.accept } : {}),
        ...(sameOrigin ? authHeaders(options.auth) : {}),
      },
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const location = response.headers["location"];
    if (!redirectStatuses.has(response.status) || location === undefined) return response;
    response.body.resume();
    if (hop >= maxRedirects) {
      throw new AppError("FETCH_FAILED", `${url} was redirected more than ${maxRedirects} times`, {
        retryable: false,
      });
    }
    target = new URL(location, target).href;
  }
}

/** Whether an error or answer is worth trying again right away (5xx, 429, time-out, dropped connection). */
function transient(outcome: { status: number } | unknown): boolean {
  if (outcome && typeof outcome === "object" && "status" in outcome && typeof outcome.status === "number") {
    return outcome.status === 429 || outcome.status >= 500;
  }
  const kind = fetchFailureKind(outcome);
  return kind === "timeout" || kind === "network" || (isAppError(outcome) && outcome.retryable);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The Voice Log API: each call's recording by its call SID. */
export class VoiceLogClient {
  readonly #config: VoiceLogConfig;
  readonly #allow: FetchAllowList;
  readonly #base: URL;

  constructor(config: VoiceLogConfig, allow: FetchAllowList) {
    this.#config = config;
    this.#allow = allow;
    this.#base = new URL(config.base_url);
  }

  /** The recording's URL for a call SID (no credentials in it: they go in headers). */
  recordingUrl(callSid: string): string {
    const base = this.#config.base_url.replace(/\/+$/, "");
    return base + this.#config.path_template.replaceAll("{call_sid}", encodeURIComponent(callSid));
  }

  /** Whether a URL is this Voice Log API's (the only place its credentials are sent). */
  owns(url: string): boolean {
    try {
      const parsed = new URL(url);
      const basePath = this.#base.pathname.replace(/\/+$/, "");
      return (
        parsed.origin === this.#base.origin && (basePath === "" || parsed.pathname.startsWith(`${basePath}/`))
      );
    } catch {
      return false;
    }
  }

  /**
   * Opens a recording: retries a 5xx, 429, time-out or dropped connection right away with back-off
   * (`retries` times), then answers what it got. A "not published yet" status becomes
   * MEDIA_NOT_READY, so the interaction waits and is tried again later instead of failing.
   */
  async open(
    url: string,
    limits: { timeoutMs: number; maxBytes: number; signal?: AbortSignal },
  ): Promise<SafeStreamResponse> {
    const timeoutMs = Math.min(this.#config.timeout_seconds * 1000, limits.timeoutMs);
    let delayMs = this.#config.retry_backoff_seconds * 1000;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#config.retries;
      let response: SafeStreamResponse;
      try {
        response = await getWithAuth(url, {
          allow: this.#allow,
          auth: this.#config.auth,
          timeoutMs,
          maxBytes: limits.maxBytes,
          signal: limits.signal,
        });
      } catch (error) {
        if (last || !transient(error) || limits.signal?.aborted) throw error;
        await sleep(delayMs, limits.signal);
        delayMs *= 2;
        continue;
      }
      if (this.#config.not_ready_statuses.includes(response.status)) {
        response.body.resume();
        throw new AppError(
          "MEDIA_NOT_READY",
          `The Voice Log API has no recording at ${url} yet (it answered ${response.status})`,
          { retryable: true },
        );
      }
      if (!last && transient(response)) {
        response.body.resume();
        await sleep(delayMs, limits.signal);
        delayMs *= 2;
        continue;
      }
      return response;
    }
  }

  /** "Test connection": the API answers, and accepts the credentials. */
  async check(): Promise<ConnectionCheck[]> {
    const probe = this.recordingUrl("cqa-connection-test");
    try {
      const response = await getWithAuth(probe, {
        allow: this.#allow,
        auth: this.#config.auth,
        timeoutMs: Math.min(this.#config.timeout_seconds, 15) * 1000,
        maxBytes: 1024 * 1024,
      });
      response.body.resume();
      const reach = { name: "voice log reach", ok: true, message: `${this.#base.origin} answers` };
      if (response.status === 401 || response.status === 403) {
        return [
          reach,
          {
            name: "voice log auth",
            ok: false,
            message: `The Voice Log API refused cqa's credentials (${response.status}): check voice_log.auth`,
          },
        ];
      }
      if (response.status >= 500) {
        return [
          reach,
          {
            name: "voice log auth",
            ok: false,
            message: `The Voice Log API answered ${response.status} to a test request for an unknown call; it may be failing`,
          },
        ];
      }
      return [
        reach,
        {
          name: "voice log auth",
          ok: true,
          message: `The credentials are accepted (a test request for an unknown call SID answered ${response.status})`,
        },
      ];
    } catch (error) {
      return [
        {
          name: "voice log reach",
          ok: false,
          message: `${this.#base.origin} cannot be reached: ${describeError(error)}. Check voice_log.base_url, and that the Voice Log API lets cqa's address in`,
        },
      ];
    }
  }
}

/** GETs JSON from an ECC4x API; errors say whose fault they are and whether a retry may help. */
export async function getJson(
  url: string,
  options: { allow: FetchAllowList; auth: HttpAuth; timeoutMs: number; signal?: AbortSignal; what: string },
): Promise<unknown> {
  const response = await getWithAuth(url, {
    allow: options.allow,
    auth: options.auth,
    timeoutMs: options.timeoutMs,
    maxBytes: 64 * 1024 * 1024,
    signal: options.signal,
    accept: "application/json",
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  if (response.status === 401 || response.status === 403) {
    throw new AppError(
      "FETCH_FAILED",
      `${options.what} refused cqa's credentials (${response.status}): check the auth settings`,
      {
        retryable: false,
      },
    );
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfter = Number(response.headers["retry-after"]);
    throw new AppError("FETCH_FAILED", `${options.what} answered ${response.status}; cqa tries again later`, {
      retryable: true,
      ...(Number.isFinite(retryAfter) && retryAfter > 0
        ? { retryAfterSeconds: Math.min(retryAfter, 3600) }
        : {}),
    });
  }
  if (response.status < 200 || response.status > 299) {
    throw new AppError(
      "FETCH_FAILED",
      `${options.what} answered ${response.status} to ${url}: ${body.slice(0, 200)}`,
      {
        retryable: false,
      },
    );
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new AppError(
      "FETCH_FAILED",
      `${options.what} did not answer JSON (${describeError(error)}): ${body.slice(0, 120)}`,
      {
        retryable: false,
        cause: error,
      },
    );
  }
}
