import type { Clock } from "../core/clock.ts";

export type RateClass = "ingest_post" | "ingest_get" | "other";

/** The verdict on one request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * Per-account request limits over fixed one-minute windows, counted in this process. With several
 * API processes behind a balancer, each enforces the limit on its share (documented in the ops guide).
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  take(accountId: string, rateClass: RateClass, limitPerMinute: number): RateDecision {
    const now = this.#clock.now().getTime();
    const start = now - (now % 60_000);
    const key = `${accountId}:${rateClass}`;
    let window = this.#windows.get(key);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > 50_000) this.#evict(start);
    }
    const resetSeconds = Math.max(1, Math.ceil((start + 60_000 - now) / 1000));
    if (window.count >= limitPerMinute) {
      return { allowed: false, limit: limitPerMinute, remaining: 0, resetSeconds };
    }
    window.count++;
    return { allowed: true, limit: limitPerMinute, remaining: limitPerMinute - window.count, resetSeconds };
  }

  #evict(currentStart: number): void {
    for (const [key, window] of this.#windows) if (window.start !== currentStart) this.#windows.delete(key);
  }
}
