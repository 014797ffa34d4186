import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../core/clock.ts";
import { describeError, isAppError } from "../core/errors.ts";
import { Wakeup } from "../core/wakeup.ts";
import type { Database } from "../storage/db.ts";
import {
  buryJob,
  type ClaimedJob,
  claimJobs,
  completeJob,
  extendLease,
  type JobLease,
  releaseJobs,
  rescheduleJob,
} from "../storage/jobQueue.ts";

/**
 * Lets a handler end its job in its own last write, so that the job's result and the job's end commit
 * together (one round trip fewer, and no moment when the work is done but the job is not).
 */
export interface JobCompletion {
  /** The worker's hold on the job: remove the job with it (see `completeJobSql`). */
  readonly lease: JobLease;
  /** The handler's last write removed the job: the worker does not remove it again. */
  completed(): void;
}

/** Runs one kind of job. Handlers must be idempotent: a job can run again after a crash. */
export interface JobHandler {
  kind: string;
  /**
   * `signal` aborts when the worker stops: a long job should stop soon and resume later. Without
   * `completion` (a job run by hand) the handler leaves the job to its caller.
   */
  run(job: ClaimedJob, signal: AbortSignal, completion?: JobCompletion): Promise<void>;
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
  /** Jobs claimed ahead of a free slot, oldest first, with when they were claimed. */
  readonly #waiting: { job: ClaimedJob; claimedAt: number }[] = [];
  #stopped = true;
  #stopping = new AbortController();
  readonly #wakeup = new Wakeup();
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
    this.#wakeup.ring();
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
    await this.#handBack(this.#waiting.splice(0).map((w) => w.job));
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

  /**
   * Keeps `concurrency` jobs running. Claims are made a round ahead — when a slot frees and no job is
   * waiting, it claims for the free slots and for one more full round — so that a busy queue costs one
   * claim per round of jobs rather than one per job.
   */
  async #run(): Promise<void> {
    const { concurrency } = this.#options;
    while (!this.#stopped) {
      this.#startWaiting();
      const free = concurrency - this.#running.size;
      if (free > 0) {
        let claimed: ClaimedJob[] = [];
        try {
          claimed = await this.#claim(free + concurrency);
        } catch (error) {
          this.#options.onError?.("could not claim jobs", error);
        }
        const claimedAt = this.#options.clock.now().getTime();
        this.#waiting.push(...claimed.map((job) => ({ job, claimedAt })));
        this.#startWaiting();
      }
      // Until a job ends (it rings), work is queued here, or the next poll.
      await this.#wakeup.wait(this.#options.pollMs);
    }
  }

  /**
   * Starts waiting jobs in the free slots. A job claimed ahead is run only while at least half of its
   * lease is left (slots can stay busy for long with slow jobs); an older one goes back to the queue,
   * where another worker, or this one's next claim, takes it with a fresh lease.
   */
  #startWaiting(): void {
    const stale = this.#options.clock.now().getTime() - this.#options.leaseMs / 2;
    const handBack: ClaimedJob[] = [];
    while (this.#running.size < this.#options.concurrency && !this.#stopped) {
      const next = this.#waiting.shift();
      if (!next) break;
      if (next.claimedAt < stale) {
        handBack.push(next.job);
        continue;
      }
      const task = this.#execute(next.job).finally(() => {
        this.#running.delete(task);
        this.notify();
      });
      this.#running.add(task);
    }
    if (handBack.length > 0) void this.#handBack(handBack);
  }

  /** Returns jobs claimed but never started to the queue (their claim not counted as an attempt). */
  async #handBack(jobs: ClaimedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await releaseJobs(
      this.#options.db,
      this.id,
      this.#options.clock.now(),
      jobs.map((job) => job.id),
    ).catch((error) => this.#options.onError?.("could not hand jobs back", error));
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
    let completed = false;
    const completion: JobCompletion = {
      lease: { jobId: job.id, workerId: this.id },
      completed: () => {
        completed = true;
      },
    };
    try {
      await handler.run(job, this.#stopping.signal, completion);
      if (!completed) await completeJob(db, job.id, this.id);
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
