import type { AnalysisResultMessage } from "../connector.ts";
import type { Ecc6xKafkaConfig } from "./config.ts";
import { type KafkaRecordOut, KafkaRecordProducer } from "./kafkaClient.ts";

/**
 * Produces analysis results to the feedback topic, keyed by the call SID (`external_interaction_id`),
 * with an idempotent producer. Results come from the outbox, at least once: a re-delivery after a crash
 * carries the same key, body and `cqa-delivery-id`, so ECC keeps the latest record per key.
 */
export class FeedbackProducer {
  readonly #config: Ecc6xKafkaConfig;
  #producer: KafkaRecordProducer | null = null;

  constructor(config: Ecc6xKafkaConfig) {
    this.#config = config;
  }

  /** The feedback records of these results (none when no feedback topic is configured). */
  records(results: readonly AnalysisResultMessage[]): KafkaRecordOut[] {
    const topic = this.#config.feedback_topic;
    if (topic === null) return [];
    return results
      .filter(
        (r) =>
          r.event === "INTERACTION_ANALYSIS_COMPLETED" ||
          (this.#config.feedback_failures && r.event === "INTERACTION_ANALYSIS_FAILED"),
      )
      .map((r) => ({
        topic,
        key: r.externalInteractionId ?? r.interactionId ?? r.deliveryId,
        value: r.body,
        headers: {
          "cqa-event": r.event,
          "cqa-delivery-id": r.deliveryId,
          "content-type": "application/json",
        },
      }));
  }

  /** Sends the results in order; throws (the outbox retries the batch) if the brokers do not acknowledge. */
  async deliver(results: readonly AnalysisResultMessage[]): Promise<void> {
    const records = this.records(results);
    if (records.length === 0) return;
    this.#producer ??= new KafkaRecordProducer(this.#config, "feedback");
    await this.#producer.send(records);
  }

  async close(): Promise<void> {
    await this.#producer?.close();
    this.#producer = null;
  }
}
