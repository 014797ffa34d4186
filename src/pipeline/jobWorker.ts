import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../core/clock.ts";
import { describeError, isAppError } from "../core/errors.ts";
import type { Database } from "../storage/db.ts";
import {
  buryJob,
  type ClaimedJob,
  claimJobs,
  completeJob,
  extendLease,
  releaseJobs,
  rescheduleJob,
} from "../storage/jobQueue.ts";

/** Runs one kind of job. Handlers must be idempotent: a job can run again after a crash. */
export interface JobHandler {
  kind: string;
  /** `signal` aborts when the worker stops: a long job should stop soon and resume later. */
  run(job: ClaimedJob, signal: AbortSignal): Promise<void>;
  /** Called once when the job is given up (attempts used up or a permanent error). */
  onGiveUp?(job: ClaimedJob, error: unknown): Promise<void>;
  /** Delay before attempt `attempt + 1`; default: exponential from 5 s, capped at 10 min. */
  backoffMs?(attempt: number, error: unknown): number;
}

export interface JobWorkerOptions {
  db: Database;
  clock: Clock;
  handlers: JobHandler[];
  concurrency: number;
  /** How long a claimed job is ours before others may take it (renewed while running). */
  leaseMs?: number;
  /** How often to look for due jobs when nobody wakes us. */
  pollMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/** Default back-off: 5 s, 10 s, 20 s … capped at 10 minutes, with ±20 % jitter. */
export function exponentialBackoffMs(attempt: number): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, attempt - 1), 600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Takes due jobs from the database queue and runs them, `concurrency` at a time. Several workers
 * (in one process or many) share the queue safely; a worker that dies loses its leases and the
 * jobs run again elsewhere.
 */
export class JobWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  readonly #options: Required<Omit<JobWorkerOptions, "onError">> & Pick<JobWorkerOptions, "onError">;
  readonly #handlers: Map<string, JobHandler>;
  readonly #running = new Set<Promise<void>>();
  #stopped = true;
  #stopping = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(options: JobWorkerOptions) {
    this.#options = { leaseMs: 5 * 60_000, pollMs: 250, ...options };
    this.#handlers = new Map(options.handlers.map((h) => [h.kind, h]));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = new AbortController();
    this.#loop = this.#run();
  }

  /** Asks the worker to look for jobs now (after local enqueues). */
  notify(): void {
    this.#wake?.();
  }

  /**
   * Stops taking jobs, waits up to `graceMs` for running ones, then hands what is still running
   * back to the queue so another worker picks it up at once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    this.notify();
    await this.#loop;
    const drained = Promise.all([...this.#running]).then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
    if (!(await Promise.race([drained, timeout]))) {
      await releaseJobs(this.#options.db, this.id, this.#options.clock.now()).catch(() => {});
    }
  }

  /** Runs every job due now to completion (tests and one-shot commands). Returns how many ran. */
  async drain(maxRounds = 1000): Promise<number> {
    let total = 0;
    for (let round = 0; round < maxRounds; round++) {
      const jobs = await this.#claim(this.#options.concurrency);
      if (jobs.length === 0) break;
      total += jobs.length;
      await Promise.all(jobs.map((job) => this.#execute(job)));
    }
    return total;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const free = this.#options.concurrency - this.#running.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        try {
          claimed = await this.#claim(free);
        } catch (error) {
          this.#options.onError?.("could not claim jobs", error);
        }
      }
      for (const job of claimed) {
        const task = this.#execute(job).finally(() => {
          this.#running.delete(task);
          this.notify();
        });
        this.#running.add(task);
      }
      if (claimed.length === free && free > 0) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#options.pollMs);
      });
      if (this.#timer) clearTimeout(this.#timer);
      this.#wake = null;
    }
  }

  #claim(limit: number): Promise<ClaimedJob[]> {
    return claimJobs(this.#options.db, {
      workerId: this.id,
      limit,
      leaseMs: this.#options.leaseMs,
      now: this.#options.clock.now(),
      kinds: [...this.#handlers.keys()],
    });
  }

  async #execute(job: ClaimedJob): Promise<void> {
    const handler = this.#handlers.get(job.kind);
    const { db, clock, leaseMs } = this.#options;
    if (!handler) return;
    const heartbeat = setInterval(
      () => {
        extendLease(db, job.id, this.id, new Date(clock.now().getTime() + leaseMs)).catch(() => {});
      },
      Math.max(1000, leaseMs / 3),
    );
    heartbeat.unref();
    try {
      await handler.run(job, this.#stopping.signal);
      await completeJob(db, job.id, this.id);
    } catch (error) {
      await this.#handleFailure(handler, job, error).catch((inner) =>
        this.#options.onError?.(`could not record the failure of job ${job.id}`, inner),
      );
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #handleFailure(handler: JobHandler, job: ClaimedJob, error: unknown): Promise<void> {
    const { db, clock } = this.#options;
    const message = describeError(error);
    const retryable = isAppError(error) ? error.retryable : true;
    if (!retryable || job.attempts >= job.maxAttempts) {
      await handler.onGiveUp?.(job, error);
      await buryJob(db, job.id, this.id, message, clock.now());
      if (!isAppError(error) || error.fault === "unexpected") {
        this.#options.onError?.(`job ${job.kind} #${job.id} failed for good`, error);
      }
      return;
    }
    const hinted =
      isAppError(error) && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : null;
    const delay = hinted ?? handler.backoffMs?.(job.attempts, error) ?? exponentialBackoffMs(job.attempts);
    await rescheduleJob(db, job.id, this.id, new Date(clock.now().getTime() + delay), message, clock.now());
  }
}
