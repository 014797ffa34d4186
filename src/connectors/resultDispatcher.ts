import { describeError } from "../core/errors.ts";
import { claimDueOutbox, type OutboxRecord, recordOutboxAttempt } from "../storage/outbox.ts";
import { getIntegrationById } from "../storage/repositories/integrations.ts";
import type { AnalysisResultMessage, ConnectorInstance } from "./connector.ts";
import { type ConnectorEnvironment, instantiateConnector } from "./connectorContext.ts";

/** Attempts before a result is marked failed (visible, re-sendable); back-off grows to 10 minutes. */
const maxAttempts = 30;

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
  #wake: (() => void) | null = null;

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
        if (sent > 0) continue;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, pollMs).unref();
        });
        this.#wake = null;
      }
    })();
  }

  notify(): void {
    this.#wake?.();
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
      limit: 200,
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
    for (const message of messages) {
      const attempt = message.attempts + 1;
      const used = attempt - message.attemptsBeforeResend;
      const delay = Math.min(5_000 * 2 ** Math.max(0, used - 1), 600_000);
      await recordOutboxAttempt(
        db,
        message.id,
        { attempt, attemptedAt: started, statusCode: null, error, durationMs },
        error === null
          ? { status: "delivered", nextAttemptAt: message.nextAttemptAt }
          : {
              status: used >= maxAttempts ? "failed" : "pending",
              nextAttemptAt: new Date(clock.now().getTime() + delay),
            },
      );
    }
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
