// A replay from offsets (`POST …/run {"offsets": {"<topic>": {"<partition>": <offset>}}}`), checked
// against what the cluster holds before it is accepted, so a mistyped topic, a partition that does not
// exist or an offset past the end is refused with the reason instead of silently doing something else.
import { AppError } from "../../core/errors.ts";
import type { ReplayOffsets } from "../connector.ts";
import type { Ecc6xKafkaConfig } from "./config.ts";
import { classifyKafkaError, type PartitionRange, partitionKey, partitionRanges } from "./kafkaClient.ts";

/**
 * What is wrong with a requested replay, one sentence per problem (none: it can be applied). Each
 * offset must lie from the partition's first kept offset to its end (the end itself: only new events).
 */
export function replayOffsetProblems(
  requested: ReplayOffsets,
  topics: readonly string[],
  ranges: ReadonlyMap<string, readonly PartitionRange[] | null>,
): string[] {
  const problems: string[] = [];
  for (const [topic, partitions] of Object.entries(requested)) {
    if (!topics.includes(topic)) {
      problems.push(
        `offsets: topic '${topic}' is not one this integration reads (it reads ${topics.map((t) => `'${t}'`).join(", ")})`,
      );
      continue;
    }
    const range = ranges.get(topic);
    if (!range) {
      problems.push(`offsets: topic '${topic}' does not exist on the cluster (or is hidden from cqa's user)`);
      continue;
    }
    for (const [partitionText, offset] of Object.entries(partitions)) {
      const partition = Number(partitionText);
      const held = range[partition];
      if (!held) {
        problems.push(
          `offsets: topic '${topic}' has no partition ${partitionText} (it has ${range.length === 1 ? "partition 0" : `partitions 0 to ${range.length - 1}`})`,
        );
        continue;
      }
      const key = partitionKey(topic, partition);
      const span = `give an offset from ${held.first} to ${held.end}`;
      if (BigInt(offset) > held.end) {
        problems.push(
          `offsets: ${offset} is past the end of ${key}, whose next offset is ${held.end}: ${span} (${held.end} reads only new events)`,
        );
      } else if (BigInt(offset) < held.first) {
        problems.push(
          `offsets: ${key} no longer holds offset ${offset} (the topic's retention deleted the events before ${held.first}): ${span}`,
        );
      }
    }
  }
  return problems;
}

/** Checks a requested replay against the cluster; throws a VALIDATION_ERROR naming every problem. */
export async function checkReplayOffsets(config: Ecc6xKafkaConfig, requested: ReplayOffsets): Promise<void> {
  const wanted = Object.keys(requested).filter((topic) => config.topics.includes(topic));
  let ranges: Map<string, PartitionRange[] | null>;
  try {
    ranges = wanted.length > 0 ? await partitionRanges(config, wanted) : new Map();
  } catch (error) {
    const failure = classifyKafkaError(error, config.brokers);
    throw new AppError(
      "VALIDATION_ERROR",
      `cqa could not check the offsets with the cluster: ${failure.message}. Fix the connection ("test connection" tells what fails), then ask for the replay again`,
      { cause: error, retryable: true },
    );
  }
  const problems = replayOffsetProblems(requested, config.topics, ranges);
  if (problems.length > 0) {
    throw new AppError("VALIDATION_ERROR", `The replay cannot start: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
}
