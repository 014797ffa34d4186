import { AppError } from "../../core/errors.ts";
import type { ConnectorDefinition } from "../connector.ts";
import {
  type Ecc6xKafkaCheckpoint,
  type Ecc6xKafkaConfig,
  ecc6xKafkaCheckpointSchema,
  ecc6xKafkaConfigSchema,
  ecc6xKafkaSecretFields,
} from "./config.ts";
import { KafkaSourceSession } from "./consumer.ts";
import { FeedbackProducer } from "./feedback.ts";
import { checkKafkaConnection, fetchOneRecord } from "./kafkaClient.ts";
import { mapEvent, mapParsedEvent } from "./mapping.ts";
import { checkReplayOffsets } from "./replay.ts";

/**
 * ECC6x over Kafka, both ways: conversation events are consumed from the contact centre's topic(s) in
 * a consumer group shared by every cqa worker, ingested as they arrive, and each analysis result is
 * produced to a feedback topic keyed by the call SID. See docs/integrations/ecc6x-kafka.md.
 */
export const ecc6xKafkaConnector: ConnectorDefinition<Ecc6xKafkaConfig, Ecc6xKafkaCheckpoint> = {
  kind: "ecc6x_kafka",
  version: 1,
  title: "ECC6x — Kafka, both ways",
  summary:
    "Consumes ECC6x conversation events from Kafka topics (consumer group, SASL/TLS) as they arrive and produces each analysis result to a feedback topic",
  mode: "stream",
  configSchema: ecc6xKafkaConfigSchema,
  secretFields: ecc6xKafkaSecretFields,
  checkpointSchema: ecc6xKafkaCheckpointSchema,
  defaultSchedule: null,
  supportsRange: true,
  create(context) {
    let session: KafkaSourceSession | null = null;
    const feedback = new FeedbackProducer(context.config);
    return {
      test: () => checkKafkaConnection(context.config),
      checkReplayOffsets: (offsets) => checkReplayOffsets(context.config, offsets),
      async start() {
        session = new KafkaSourceSession(context);
        await session.start();
      },
      async stop() {
        await session?.stop();
        session = null;
        await feedback.close();
      },
      async lag() {
        return session?.lag() ?? null;
      },
      async itemFromDeadLetter(payload, sourceRef) {
        const parsed = tryParse(payload);
        if (parsed !== undefined) {
          const mapped = mapParsedEvent(parsed, context.config.event);
          if (mapped.ok) return mapped.item;
          throw new AppError("VALIDATION_ERROR", mapped.reason);
        }
        // The dead letter keeps a cut copy of a large event: read the original from the topic again.
        const original = await fetchOneRecord(context.config, sourceRef);
        const mapped = mapEvent(original, context.config.event);
        if (mapped.ok) return mapped.item;
        throw new AppError("VALIDATION_ERROR", mapped.reason);
      },
      deliverResults: (results) => feedback.deliver(results),
    };
  },
};

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
