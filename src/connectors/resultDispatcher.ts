import { setTimeout as delay } from "node:timers/promises";
import { describeError } from "../core/errors.ts";
import { Wakeup } from "../core/wakeup.ts";
import { claimDueOutbox, type OutboxRecord, recordOutboxAttempts } from "../storage/outbox.ts";
import { getIntegrationById } from "../storage/repositories/integrations.ts";
import type { AnalysisResultMessage, ConnectorInstance } from "./connector.ts";
import { type ConnectorEnvironment, instantiateConnector } from "./connectorContext.ts";

/** Attempts before a result is marked failed (visible, re-sendable); back-off grows to 10 minutes. */
const maxAttempts = 30;

/** Results claimed per round. */
const batchLimit = 200;

/**
 * After a round that found less than a full batch, the next one waits this long: results finished one
 * at a time (each analysis pokes the dispatcher) then leave in batches — one claim, one delivery and one
 * record per batch rather than per result — for at most this much more latency.
 */
const lingerMs = 25;

/**
 * Sends analysis results back to the integrations interactions came from, from the outbox: each
 * connector that has `deliverResults` gets its integration's results in batches; one without it
 * (a source that takes nothing back) has them marked delivered at once.
 */
export class IntegrationResultDispatcher {
  readonly #env: ConnectorEnvironment;
  readonly #instances = new Map<string, { version: number; instance: ConnectorInstance }>();
  #stopped = true;
  #loop: Promise<void> | null = null;
  readonly #wakeup = new Wakeup();

  constructor(env: ConnectorEnvironment) {
    this.#env = env;
  }

  start(pollMs = 500): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = (async () => {
      while (!this.#stopped) {
        let sent = 0;
        try {
          sent = await this.deliverDue();
        } catch (error) {
          this.#env.log.error("integration result delivery failed", { error: describeError(error) });
        }
        if (sent >= batchLimit) continue;
        if (sent > 0) await delay(lingerMs);
        else await this.#wakeup.wait(pollMs);
      }
    })();
  }

  notify(): void {
    this.#wakeup.ring();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
    await Promise.all([...this.#instances.values()].map((i) => i.instance.stop?.().catch(() => {})));
    this.#instances.clear();
  }

  /** Delivers every due result once; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const { db, clock } = this.#env;
    const batch = await claimDueOutbox(db, {
      channel: "integration",
      limit: batchLimit,
      now: clock.now(),
      leaseMs: 120_000,
    });
    const byIntegration = new Map<string, OutboxRecord[]>();
    for (const message of batch) {
      const list = byIntegration.get(message.target) ?? [];
      list.push(message);
      byIntegration.set(message.target, list);
    }
    await Promise.all([...byIntegration].map(([id, messages]) => this.#deliver(id, messages)));
    return batch.length;
  }

  async #deliver(integrationId: string, messages: OutboxRecord[]): Promise<void> {
    const { db, clock } = this.#env;
    const started = clock.now();
    let error: string | null = null;
    try {
      const instance = await this.#instanceFor(integrationId);
      if (instance?.deliverResults) {
        const results: AnalysisResultMessage[] = messages.map((m) => {
          const body = JSON.parse(m.payload) as { externalInteractionId?: string };
          return {
            deliveryId: m.id,
            event: m.event,
            interactionId: m.interactionId,
            externalInteractionId: body.externalInteractionId ?? null,
            body: m.payload,
          };
        });
        await instance.deliverResults(results);
      }
    } catch (failure) {
      error = describeError(failure);
    }
    const durationMs = clock.now().getTime() - started.getTime();
    await recordOutboxAttempts(
      db,
      messages.map((message) => {
        const attempt = message.attempts + 1;
        const used = attempt - message.attemptsBeforeResend;
        const delay = Math.min(5_000 * 2 ** Math.max(0, used - 1), 600_000);
        return {
          id: message.id,
          attempt: { attempt, attemptedAt: started, statusCode: null, error, durationMs },
          next:
            error === null
              ? { status: "delivered" as const, nextAttemptAt: message.nextAttemptAt }
              : {
                  status: used >= maxAttempts ? ("failed" as const) : ("pending" as const),
                  nextAttemptAt: new Date(clock.now().getTime() + delay),
                },
        };
      }),
    );
  }

  /** The integration's connector, kept while its config is unchanged; null when it is gone. */
  async #instanceFor(integrationId: string): Promise<ConnectorInstance | null> {
    const integration = await getIntegrationById(this.#env.db, integrationId);
    if (!integration) return null;
    const cached = this.#instances.get(integrationId);
    if (cached && cached.version === integration.configVersion) return cached.instance;
    await cached?.instance.stop?.().catch(() => {});
    const instance = await instantiateConnector(this.#env, integration);
    this.#instances.set(integrationId, { version: integration.configVersion, instance });
    return instance;
  }
}
