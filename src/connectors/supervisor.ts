import { AppError, describeError, isAppError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { ClaimedJob } from "../storage/jobQueue.ts";
import { enqueueJobs } from "../storage/jobQueue.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import {
  failAbandonedRuns,
  finishRun,
  getIntegrationById,
  type IntegrationRecord,
  listActiveIntegrations,
  startRun,
  updateIntegrationHealth,
} from "../storage/repositories/integrations.ts";
import type { Schedule } from "./connector.ts";
import { type ConnectorEnvironment, instantiateConnector } from "./connectorContext.ts";
import { nextRunAfter } from "./schedule.ts";

/** The job that runs a poll connector once. */
export const integrationRunJob = "integration.run";

export interface IntegrationRunPayload {
  integrationId: string;
  runId: string;
  trigger: "schedule" | "manual" | "backfill";
  from: string | null;
  to: string | null;
}

/** Queues a run of a poll integration; at most one is queued or running per integration. */
export async function queueIntegrationRun(
  tx: Parameters<typeof enqueueJobs>[0],
  integration: IntegrationRecord,
  request: { trigger: IntegrationRunPayload["trigger"]; from: Date | null; to: Date | null },
  now: Date,
): Promise<string | null> {
  const runId = newId();
  const payload: IntegrationRunPayload = {
    integrationId: integration.id,
    runId,
    trigger: request.trigger,
    from: request.from?.toISOString() ?? null,
    to: request.to?.toISOString() ?? null,
  };
  const added = await enqueueJobs(
    tx,
    [
      {
        kind: integrationRunJob,
        accountId: integration.accountId,
        payload,
        dedupeKey: `${integrationRunJob}:${integration.id}`,
        maxAttempts: 10,
      },
    ],
    now,
  );
  return added > 0 ? runId : null;
}

/** The job handler that runs a poll connector; a retried job continues the same run. */
export function integrationRunHandler(env: ConnectorEnvironment) {
  return {
    kind: integrationRunJob,
    async run(job: ClaimedJob, signal: AbortSignal): Promise<void> {
      const payload = job.payload as IntegrationRunPayload;
      const integration = await getIntegrationById(env.db, payload.integrationId);
      if (!integration) return;
      if (payload.trigger === "schedule" && (!integration.enabled || integration.paused)) return;
      const instance = await instantiateConnector(env, integration);
      if (!instance.run) {
        throw new AppError("VALIDATION_ERROR", `Connector kind '${integration.kind}' does not run on demand`);
      }
      const startedAt = env.clock.now();
      await startRun(env.db, {
        id: payload.runId,
        integrationId: integration.id,
        accountId: integration.accountId,
        trigger: payload.trigger,
        rangeFrom: payload.from ? new Date(payload.from) : null,
        rangeTo: payload.to ? new Date(payload.to) : null,
        startedAt,
      });
      await failAbandonedRuns(env.db, integration.id, payload.runId, startedAt);
      await updateIntegrationHealth(env.db, integration.id, { lastRunAt: startedAt });
      try {
        await instance.run({
          runId: payload.runId,
          trigger: payload.trigger,
          from: payload.from ? new Date(payload.from) : null,
          to: payload.to ? new Date(payload.to) : null,
          signal,
        });
      } catch (error) {
        const message = describeError(error);
        await updateIntegrationHealth(env.db, integration.id, {
          lastError: { message, at: env.clock.now() },
        });
        const willRetry = (!isAppError(error) || error.retryable) && job.attempts < job.maxAttempts;
        if (!willRetry) {
          await finishRun(env.db, payload.runId, { status: "failed", error: message, at: env.clock.now() });
        }
        throw error;
      } finally {
        await instance.stop?.().catch(() => {});
      }
      const now = env.clock.now();
      await finishRun(env.db, payload.runId, { status: "succeeded", at: now });
      const lag = await instance.lag?.().catch(() => undefined);
      await updateIntegrationHealth(env.db, integration.id, {
        lastSuccessAt: now,
        lastError: null,
        ...(lag === undefined ? {} : { lag }),
      });
    },
    async onGiveUp(job: ClaimedJob, error: unknown): Promise<void> {
      const payload = job.payload as IntegrationRunPayload;
      await finishRun(env.db, payload.runId, {
        status: "failed",
        error: describeError(error),
        at: env.clock.now(),
      });
    },
  };
}

interface StreamState {
  configVersion: number;
  stop: () => Promise<void>;
}

/**
 * Keeps integrations running: queues poll runs when their schedule is due, and keeps one consumer per
 * stream integration in this process (started, restarted after an edit or a failure, stopped on
 * pause / disable / delete). Several worker processes share polls through the job queue; streams
 * share through the source itself (a Kafka consumer group).
 */
export class IntegrationSupervisor {
  readonly #env: ConnectorEnvironment;
  readonly #streams = new Map<string, StreamState>();
  readonly #failures = new Map<string, { count: number; retryAt: number }>();
  readonly #onQueued: () => void;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #serial: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(env: ConnectorEnvironment, onQueued: () => void) {
    this.#env = env;
    this.#onQueued = onQueued;
  }

  start(intervalMs = 5_000): void {
    if (this.#timer) return;
    const loop = () => {
      this.#ticking = this.tick().catch((error) =>
        this.#env.log.error("integration supervisor tick failed", { error: describeError(error) }),
      );
    };
    loop();
    this.#timer = setInterval(loop, intervalMs);
    this.#timer.unref();
  }

  /**
   * Looks at the integrations now (called on a timer, and after edits in this process). Ticks run one
   * after another, so two of them never start the same stream twice.
   */
  tick(): Promise<void> {
    return this.#serialised(async () => {
      await this.#queueDueRuns();
      await this.#syncStreams();
    });
  }

  /** Queues a run for every poll integration whose schedule is due, and moves its next run on. */
  queueDueRuns(): Promise<number> {
    return this.#serialised(() => this.#queueDueRuns());
  }

  /** Starts, restarts and stops stream consumers to match the integrations table. */
  syncStreams(): Promise<void> {
    return this.#serialised(() => this.#syncStreams());
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(work);
    this.#serial = next.then(
      () => {},
      () => {},
    );
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
    await this.#serial;
    await Promise.all([...this.#streams.values()].map((s) => s.stop().catch(() => {})));
    this.#streams.clear();
  }

  async #queueDueRuns(): Promise<number> {
    const { db, clock, registry } = this.#env;
    const now = clock.now();
    const queued = await db.transaction(async (tx) => {
      const due = await tx.query<{ id: string }>(
        `SELECT id FROM integrations WHERE enabled AND NOT paused AND next_run_at <= $1
         ORDER BY next_run_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      let count = 0;
      for (const { id } of due.rows) {
        const integration = await getIntegrationById(tx, id);
        if (!integration) continue;
        const definition = registry.get(integration.kind);
        const account = await getAccount(tx, integration.accountId);
        const next = nextRunAfter(integration.schedule as Schedule | null, now, account?.timezone ?? "UTC");
        await updateIntegrationHealth(tx, id, { nextRunAt: next });
        if (definition?.mode !== "poll") continue;
        if (await queueIntegrationRun(tx, integration, { trigger: "schedule", from: null, to: null }, now))
          count++;
      }
      return count;
    });
    if (queued > 0) this.#onQueued();
    return queued;
  }

  async #syncStreams(): Promise<void> {
    const { registry } = this.#env;
    const active = (await listActiveIntegrations(this.#env.db)).filter(
      (i) => registry.get(i.kind)?.mode === "stream",
    );
    const wanted = new Map(active.map((i) => [i.id, i]));
    for (const [id, state] of this.#streams) {
      const integration = wanted.get(id);
      if (!integration || integration.configVersion !== state.configVersion) {
        this.#streams.delete(id);
        await state
          .stop()
          .catch((error) =>
            this.#env.log.warn("stream stop failed", { integration_id: id, error: describeError(error) }),
          );
      }
    }
    for (const integration of active) {
      if (this.#stopped) return;
      if (this.#streams.has(integration.id)) continue;
      const failure = this.#failures.get(integration.id);
      if (failure && failure.retryAt > Date.now()) continue;
      await this.#startStream(integration);
    }
  }

  async #startStream(integration: IntegrationRecord): Promise<void> {
    try {
      const instance = await instantiateConnector(this.#env, integration);
      if (!instance.start) throw new Error(`Connector kind '${integration.kind}' has no start()`);
      await instance.start();
      this.#failures.delete(integration.id);
      this.#streams.set(integration.id, {
        configVersion: integration.configVersion,
        stop: async () => {
          await instance.stop?.();
        },
      });
    } catch (error) {
      const count = (this.#failures.get(integration.id)?.count ?? 0) + 1;
      // Back off 5 s, 10 s, 20 s … up to 5 minutes between attempts to start a failing stream.
      this.#failures.set(integration.id, {
        count,
        retryAt: Date.now() + Math.min(5_000 * 2 ** (count - 1), 300_000),
      });
      await updateIntegrationHealth(this.#env.db, integration.id, {
        lastError: { message: `Could not start: ${describeError(error)}`, at: this.#env.clock.now() },
      }).catch(() => {});
    }
  }

  /** Stream integrations running in this process (for status and tests). */
  runningStreams(): string[] {
    return [...this.#streams.keys()];
  }
}
