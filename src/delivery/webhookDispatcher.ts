import type { Clock } from "../core/clock.ts";
import { Wakeup } from "../core/wakeup.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import type { Database } from "../storage/db.ts";
import {
  claimDueOutbox,
  type OutboxAttemptEntry,
  type OutboxRecord,
  recordOutboxAttempts,
} from "../storage/outbox.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { sendWebhook, type WebhookOutcome } from "./webhookSender.ts";

/** Total attempts per delivery, as published: now, ~10 s later, ~30 s after that. */
export const webhookAttempts = 3;
export const webhookRetryDelaysMs: readonly number[] = [10_000, 30_000];

export interface WebhookDispatcherOptions {
  db: Database;
  clock: Clock;
  allow: FetchAllowList;
  /** The secret that signs an account's webhooks; null when it has no active API key. */
  signingSecretFor: (accountId: string) => Promise<string | null>;
  concurrency?: number;
  pollMs?: number;
  timeoutMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/**
 * Sends pending webhooks from the outbox. At least once: a message is marked delivered only after
 * its receiver answered 2xx, so a crash in between re-sends it with the same deliveryId.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  #stopped = true;
  #loop: Promise<void> | null = null;
  readonly #wakeup = new Wakeup();

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  notify(): void {
    this.#wakeup.ring();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
  }

  /** Attempts every message due now once; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const { db, clock } = this.#options;
    const batch = await claimDueOutbox(db, {
      channel: "webhook",
      limit: this.#options.concurrency ?? 16,
      now: clock.now(),
      // Longer than one attempt can take, so no other dispatcher sends the same message meanwhile.
      leaseMs: (this.#options.timeoutMs ?? 10_000) * 3,
    });
    // The flag is read at every attempt, not only when the event is queued: an account that turns
    // webhooks off gets no more requests, retries included (the message stays re-sendable).
    const accountIds = [...new Set(batch.map((message) => message.accountId))];
    const flags = new Map(
      await Promise.all(
        accountIds.map(async (id) => [id, (await getAccount(db, id))?.webhooksEnabled ?? false] as const),
      ),
    );
    const attempts = await Promise.all(
      batch.map((message) => this.#attempt(message, flags.get(message.accountId) ?? false)),
    );
    // Recorded together once the round is over: a crash before that re-sends with the same deliveryId.
    await recordOutboxAttempts(db, attempts);
    return batch.length;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let attempted = 0;
      try {
        attempted = await this.deliverDue();
      } catch (error) {
        this.#options.onError?.("webhook delivery round failed", error);
      }
      if (attempted > 0) continue;
      await this.#wakeup.wait(this.#options.pollMs ?? 250);
    }
  }

  /** Sends one message (or finds it cannot be sent) and says what to record of the attempt. */
  async #attempt(message: OutboxRecord, enabled: boolean): Promise<OutboxAttemptEntry> {
    const { clock } = this.#options;
    const attempt = message.attempts + 1;
    const sentAt = clock.now();
    const secret = enabled ? await this.#options.signingSecretFor(message.accountId) : null;
    const outcome: WebhookOutcome = !enabled
      ? notSent(
          "Webhooks are turned off for this account (webhooks_enabled is false); turn them on and re-send",
        )
      : secret
        ? await sendWebhook({
            url: message.target,
            body: message.payload,
            secret,
            deliveryId: message.id,
            event: message.event,
            sentAt,
            allow: this.#options.allow,
            ...(this.#options.timeoutMs ? { timeoutMs: this.#options.timeoutMs } : {}),
          })
        : notSent("The account has no active API key to sign webhooks with; create one and re-send");
    const used = attempt - message.attemptsBeforeResend;
    const retry = outcome.result === "retry" && used < webhookAttempts;
    const status = outcome.result === "delivered" ? "delivered" : retry ? "pending" : "failed";
    const delay = webhookRetryDelaysMs[used - 1] ?? webhookRetryDelaysMs.at(-1) ?? 30_000;
    return {
      id: message.id,
      attempt: {
        attempt,
        attemptedAt: sentAt,
        statusCode: outcome.statusCode,
        error: outcome.error,
        durationMs: outcome.durationMs,
      },
      next: {
        status,
        nextAttemptAt: retry ? new Date(clock.now().getTime() + delay) : message.nextAttemptAt,
      },
    };
  }
}

/** The outcome of an attempt that could not be made at all: final, with the reason. */
function notSent(error: string): WebhookOutcome {
  return { result: "failed", statusCode: null, error, durationMs: 0 };
}
