import { AppError, describeError } from "../../core/errors.ts";
import type { FetchAllowList } from "../../net/allowList.ts";
import {
  type SafeResponse,
  type SafeStreamResponse,
  safeFetch,
  safeFetchStream,
} from "../../net/safeFetch.ts";
import { type ExoliteConfig, exoliteBaseUrl } from "./config.ts";
import type { CallWindow } from "./windows.ts";

/** One call as the bulk call details API returns it (fields used by cqa; others are kept as they are). */
export interface ExoliteCall {
  Sid?: unknown;
  DateCreated?: unknown;
  StartTime?: unknown;
  EndTime?: unknown;
  Duration?: unknown;
  Status?: unknown;
  Direction?: unknown;
  From?: unknown;
  To?: unknown;
  PhoneNumberSid?: unknown;
  AnsweredBy?: unknown;
  RecordingUrl?: unknown;
  PreSignedRecordingUrl?: unknown;
  [field: string]: unknown;
}

/** One page of calls and the URL of the next one (from `Metadata.NextPageUri`). */
export interface CallsPage {
  url: string;
  calls: ExoliteCall[];
  next: string | null;
}

/** Longest `Retry-After` waited out within a run; longer ones end the run to be retried later. */
const maxInlineWaitSeconds = 60;
const maxRateLimitedTries = 6;

/**
 * The per-account rate budget: one token bucket per Exolite account (base URL + SID) in this process,
 * shared by every integration and recording fetch of that account. Refills continuously.
 */
class RateBudget {
  #perMinute: number;
  #tokens: number;
  #updatedAt = Date.now();
  constructor(perMinute: number) {
    this.#perMinute = perMinute;
    this.#tokens = this.#capacity();
  }
  #capacity(): number {
    // At most ten seconds' worth at once, so a burst never exceeds the minute's share by much.
    return Math.max(1, this.#perMinute / 6);
  }
  setRate(perMinute: number): void {
    if (perMinute === this.#perMinute) return;
    this.#refill();
    this.#perMinute = perMinute;
    this.#tokens = Math.min(this.#tokens, this.#capacity());
  }
  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(
      this.#capacity(),
      this.#tokens + ((now - this.#updatedAt) * this.#perMinute) / 60_000,
    );
    this.#updatedAt = now;
  }
  /** Waits until a request may be sent. */
  async take(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.#tokens) * 60_000) / this.#perMinute);
      await sleep(waitMs, signal);
    }
  }
}

const budgets = new Map<string, RateBudget>();

function budgetFor(config: ExoliteConfig): RateBudget {
  const key = `${exoliteBaseUrl(config)}|${config.account_sid}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new RateBudget(config.requests_per_minute);
    budgets.set(key, budget);
  }
  budget.setRate(config.requests_per_minute);
  return budget;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const cancelled = () =>
  new AppError("FETCH_FAILED", "The Exolite run was stopped; it continues from its checkpoint", {
    retryable: true,
  });

/** The message of a `{"RestException": {"Message": …}}` error body, if it has one. */
function restMessage(body: Buffer): string | null {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { RestException?: { Message?: unknown } };
    const message = parsed.RestException?.Message;
    return typeof message === "string" ? message.slice(0, 500) : null;
  } catch {
    return null;
  }
}

/** Talks to the bulk call details API of one Exolite account. */
export class ExoliteClient {
  readonly #config: ExoliteConfig;
  readonly #allow: FetchAllowList;
  readonly #base: URL;
  readonly #authorization: string;

  constructor(config: ExoliteConfig, allow: FetchAllowList) {
    this.#config = config;
    this.#allow = allow;
    this.#base = new URL(exoliteBaseUrl(config));
    this.#authorization = `Basic ${Buffer.from(`${config.api_key}:${config.api_token}`).toString("base64")}`;
  }

  /** The API's origin, e.g. https://api.exotel.com. */
  get origin(): string {
    return this.#base.origin;
  }

  #callsPath(): string {
    return `${this.#base.pathname.replace(/\/+$/, "")}/v1/Accounts/${encodeURIComponent(this.#config.account_sid)}/Calls`;
  }

  /** The first page of a window: filters, PageSize, oldest first. */
  firstPageUrl(window: Pick<CallWindow, "gte" | "lte">, pageSize = this.#config.page_size): string {
    const params = new URLSearchParams();
    params.set("DateCreated", `gte:${window.gte};lte:${window.lte}`);
    const { filters } = this.#config;
    if (filters.status === "completed") params.set("Status", "completed");
    if (filters.direction) params.set("Direction", filters.direction);
    const duration = [
      filters.min_duration_seconds === undefined ? null : `gte:${filters.min_duration_seconds}s`,
      filters.max_duration_seconds === undefined ? null : `lte:${filters.max_duration_seconds}s`,
    ].filter((part) => part !== null);
    if (duration.length > 0) params.set("Duration", duration.join(";"));
    if (this.#config.recording.source === "presigned") {
      params.set("RecordingUrlValidity", String(this.#config.recording.url_validity_minutes));
    }
    params.set("PageSize", String(pageSize));
    params.set("SortBy", "DateCreated:asc");
    return `${this.#base.origin}${this.#callsPath()}.json?${params.toString()}`;
  }

  /** Every page of a window, following `Metadata.NextPageUri` until there is none. */
  async *pages(window: CallWindow, signal?: AbortSignal): AsyncGenerator<CallsPage> {
    let url: string | null = this.firstPageUrl(window);
    const visited = new Set<string>();
    while (url !== null) {
      if (visited.has(url)) {
        throw new AppError(
          "FETCH_FAILED",
          `Exolite answered the same NextPageUri twice (${url}); stopping this run`,
          {
            retryable: true,
          },
        );
      }
      visited.add(url);
      const page = await this.page(url, signal);
      yield page;
      url = page.calls.length > 0 ? page.next : null;
    }
  }

  /** One page of calls. */
  async page(url: string, signal?: AbortSignal): Promise<CallsPage> {
    const response = await this.#get(url, signal);
    let parsed: { Calls?: unknown; Metadata?: { NextPageUri?: unknown } };
    try {
      parsed = JSON.parse(response.body.toString("utf8"));
    } catch (error) {
      throw new AppError("FETCH_FAILED", `Exolite answered ${url} with something that is not JSON`, {
        retryable: true,
        cause: error,
      });
    }
    if (!Array.isArray(parsed.Calls)) {
      throw new AppError("FETCH_FAILED", `Exolite's answer to ${url} has no Calls list`, { retryable: true });
    }
    const nextUri = parsed.Metadata?.NextPageUri;
    return {
      url,
      calls: parsed.Calls as ExoliteCall[],
      next: typeof nextUri === "string" && nextUri !== "" ? this.#resolveNext(nextUri) : null,
    };
  }

  /** A call by its Sid (the call details API); null when the API does not know it. */
  async call(sid: string, signal?: AbortSignal): Promise<ExoliteCall | null> {
    const params = new URLSearchParams();
    if (this.#config.recording.source === "presigned") {
      params.set("RecordingUrlValidity", String(this.#config.recording.url_validity_minutes));
    }
    const query = params.size > 0 ? `?${params.toString()}` : "";
    const url = `${this.#base.origin}${this.#callsPath()}/${encodeURIComponent(sid)}.json${query}`;
    let response: SafeResponse;
    try {
      response = await this.#get(url, signal);
    } catch (error) {
      if (error instanceof AppError && (error.details as { status?: number } | undefined)?.status === 404)
        return null;
      throw error;
    }
    const parsed = JSON.parse(response.body.toString("utf8")) as { Call?: ExoliteCall };
    return parsed.Call ?? null;
  }

  /** Whether a recording URL is on a host that gets the API credentials. */
  isCredentialedHost(url: string): boolean {
    let host: string;
    try {
      host = new URL(url).host.toLowerCase();
    } catch {
      return false;
    }
    return host === this.#base.host.toLowerCase() || this.#config.recording.credential_hosts.includes(host);
  }

  /** Opens a recording; the API credentials are sent only to the API host and the listed hosts. */
  async openRecording(
    url: string,
    limits: { timeoutMs: number; maxBytes: number; signal?: AbortSignal },
  ): Promise<SafeStreamResponse> {
    const credentialed = this.isCredentialedHost(url);
    if (credentialed) await budgetFor(this.#config).take(limits.signal);
    return safeFetchStream(url, {
      allow: this.#allow,
      timeoutMs: limits.timeoutMs,
      maxBytes: limits.maxBytes,
      ...(limits.signal ? { signal: limits.signal } : {}),
      ...(credentialed ? { headers: { authorization: this.#authorization } } : {}),
    });
  }

  /** NextPageUri is relative to the API host; anything pointing elsewhere is refused. */
  #resolveNext(uri: string): string {
    const next = new URL(uri, this.#base.origin);
    if (next.origin !== this.#base.origin) {
      throw new AppError(
        "FETCH_FAILED",
        `Exolite's NextPageUri points to another host (${next.origin}); refused`,
      );
    }
    return next.href;
  }

  /** A GET within the rate budget; 429 waits out Retry-After, other failures say whose they are. */
  async #get(url: string, signal: AbortSignal | undefined): Promise<SafeResponse> {
    for (let attempt = 1; ; attempt++) {
      await budgetFor(this.#config).take(signal);
      let response: SafeResponse;
      try {
        response = await safeFetch(url, {
          allow: this.#allow,
          headers: { authorization: this.#authorization, accept: "application/json" },
          timeoutMs: 60_000,
          maxBytes: 20 * 1024 * 1024,
          maxRedirects: 0,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        throw new AppError(
          "FETCH_FAILED",
          `Exolite at ${this.#base.origin} cannot be reached: ${describeError(error)}`,
          {
            retryable: true,
            cause: error,
          },
        );
      }
      const status = response.status;
      if (status === 200) return response;
      const detail = restMessage(response.body);
      const said = detail ? `: ${detail}` : "";
      if (status === 429) {
        const retryAfter = Number(response.headers["retry-after"] ?? "1");
        const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1;
        if (seconds <= maxInlineWaitSeconds && attempt < maxRateLimitedTries) {
          await sleep(seconds * 1000, signal);
          continue;
        }
        throw new AppError(
          "FETCH_FAILED",
          `Exolite's rate limit was reached (429)${said}; the run continues later`,
          {
            retryable: true,
            retryAfterSeconds: Math.max(1, Math.min(seconds, 3600)),
          },
        );
      }
      if (status === 401) {
        throw new AppError(
          "FETCH_FAILED",
          `Exolite refused the API key and token (401)${said}: check api_key, api_token and account_sid`,
          { details: { status } },
        );
      }
      if (status === 403) {
        throw new AppError(
          "FETCH_FAILED",
          `Exolite refused access to account ${this.#config.account_sid}'s calls (403)${said}: the API key needs access to the call details API`,
          { details: { status } },
        );
      }
      if (status === 404) {
        throw new AppError(
          "FETCH_FAILED",
          `Exolite answered 404 for ${url}${said}: check account_sid and the region`,
          {
            details: { status },
          },
        );
      }
      if (status === 400) {
        throw new AppError("FETCH_FAILED", `Exolite refused the request (400)${said}`, {
          details: { status },
        });
      }
      throw new AppError("FETCH_FAILED", `Exolite answered ${status}${said}; the run is tried again later`, {
        retryable: status >= 500 || status === 408,
        details: { status },
      });
    }
  }
}
