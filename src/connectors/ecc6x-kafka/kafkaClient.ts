// The only file that imports the Kafka client library (@platformatic/kafka). Everything else in the
// connector speaks in these small types: a group consumer whose positions cqa keeps itself, an
// idempotent producer, offset look-ups, and "test connection" checks.
import {
  AclOperations,
  Admin,
  type BaseOptions,
  Consumer,
  findErrorBy,
  ListOffsetTimestamps,
  metadataV12,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import type { ConnectionCheck } from "../connector.ts";
import type { Ecc6xKafkaConfig } from "./config.ts";
import { checkBrokerTls, plaintextOnTlsListener } from "./tlsCheck.ts";

/** The connection part of the config: where the brokers are and how to authenticate. */
export type KafkaConnectionSettings = Pick<Ecc6xKafkaConfig, "brokers" | "client_id" | "tls" | "sasl">;

/** A record read from a partition. */
export interface KafkaRecordRead {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/** What one fetch brought for one partition. */
export interface PartitionFetch {
  topic: string;
  partition: number;
  records: KafkaRecordRead[];
  /** Where the next fetch starts (past control records and compacted gaps too). */
  nextOffset: bigint;
  highWatermark: bigint;
  /** The partition's error, when the broker answered one (e.g. OFFSET_OUT_OF_RANGE). */
  error: string | null;
  logStartOffset: bigint;
}

/** A record to produce. */
export interface KafkaRecordOut {
  topic: string;
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/** `topic/partition`: the key of a partition everywhere in the connector. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function clientOptions(settings: KafkaConnectionSettings, role: string): BaseOptions {
  const { tls, sasl } = settings;
  return {
    clientId: `${settings.client_id}-${role}`,
    bootstrapBrokers: settings.brokers,
    connectTimeout: 10_000,
    requestTimeout: 30_000,
    retries: 3,
    retryDelay: 500,
    ...(tls.enabled
      ? {
          tls: {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
            ...(tls.server_name ? { servername: tls.server_name } : {}),
            rejectUnauthorized: tls.reject_unauthorized,
          },
        }
      : {}),
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }
      : {}),
  };
}

/**
 * A member of a consumer group that reads from positions it is given. Kafka decides which partitions
 * it owns (`assignment()`, and `onAssignment` after every rebalance); cqa decides where each one
 * is read from, from its own offsets table.
 */
export class KafkaGroupConsumer {
  readonly #group: Consumer;
  // Fetches wait at the broker; they run on their own connections so heartbeats never queue behind them.
  readonly #fetcher: Consumer;
  readonly #topics: readonly string[];
  readonly #sessionTimeoutMs: number;

  constructor(
    settings: KafkaConnectionSettings,
    options: {
      groupId: string;
      topics: readonly string[];
      sessionTimeoutMs: number;
      onAssignment: () => void;
      onError: (error: Error) => void;
    },
  ) {
    this.#topics = options.topics;
    this.#sessionTimeoutMs = options.sessionTimeoutMs;
    const heartbeatInterval = Math.max(100, Math.floor(options.sessionTimeoutMs / 10));
    this.#group = new Consumer({
      ...clientOptions(settings, "consumer"),
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      heartbeatInterval,
      autocommit: false,
    });
    this.#fetcher = new Consumer({
      ...clientOptions(settings, "fetcher"),
      groupId: options.groupId,
      autocommit: false,
    });
    for (const topic of options.topics) {
      this.#group.topics.track(topic);
      this.#fetcher.topics.track(topic);
    }
    this.#group.on("consumer:group:join", () => options.onAssignment());
    this.#group.on("consumer:group:rebalance", () => options.onAssignment());
    // A failed rejoin is reported as an 'error' event; the session restarts the consumer.
    this.#group.on("error", (error: Error) => options.onError(error));
    this.#fetcher.on("error", (error: Error) => options.onError(error));
    this.#group.on("consumer:heartbeat:stalled", () =>
      options.onError(new Error("The consumer group stopped answering heartbeats")),
    );
  }

  /** Joins the group; resolves once partitions are assigned (possibly none). */
  async join(): Promise<void> {
    const heartbeatInterval = Math.max(100, Math.floor(this.#sessionTimeoutMs / 10));
    await this.#group.joinGroup({
      sessionTimeout: this.#sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.#sessionTimeoutMs, 10_000),
      heartbeatInterval,
    });
  }

  /** Member and generation: the owner written beside each partition this member commits. */
  owner(): string {
    return `${this.#group.memberId ?? "none"}#${this.#group.generationId}`;
  }

  isActive(): boolean {
    return this.#group.isActive();
  }

  /** The partitions the group assigned to this member now. */
  assignment(): { topic: string; partition: number }[] {
    return (this.#group.assignments ?? []).flatMap((a) =>
      a.partitions.map((partition) => ({ topic: a.topic, partition })),
    );
  }

  /** Every partition of the subscribed topics. */
  async allPartitions(): Promise<{ topic: string; partition: number }[]> {
    const metadata = await this.#fetcher.metadata({ topics: [...this.#topics], forceUpdate: true });
    return this.#topics.flatMap((topic) => {
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      return Array.from({ length: count }, (_, partition) => ({ topic, partition }));
    });
  }

  /**
   * Offsets of every partition: the first (`earliest`), the end (`latest`, the next offset to be
   * written), or the first record at or after a time (the end when there is none).
   */
  async offsets(position: "earliest" | "latest" | Date): Promise<Map<string, bigint>> {
    const result = new Map<string, bigint>();
    const latest = await this.#fetcher.listOffsets({
      topics: [...this.#topics],
      timestamp: ListOffsetTimestamps.LATEST,
    });
    const chosen =
      position === "latest"
        ? latest
        : await this.#fetcher.listOffsets({
            topics: [...this.#topics],
            timestamp: position === "earliest" ? ListOffsetTimestamps.EARLIEST : BigInt(position.getTime()),
          });
    for (const [topic, offsets] of chosen) {
      offsets.forEach((offset, partition) => {
        const end = latest.get(topic)?.[partition] ?? 0n;
        result.set(partitionKey(topic, partition), offset >= 0n ? offset : end);
      });
    }
    return result;
  }

  /** Reads from each partition at its position; waits up to `maxWaitMs` for something new. */
  async fetch(
    positions: readonly { topic: string; partition: number; offset: bigint }[],
    options: { maxWaitMs: number; maxBytes: number },
  ): Promise<PartitionFetch[]> {
    if (positions.length === 0) return [];
    const metadata = await this.#fetcher.metadata({ topics: [...this.#topics] });
    const byNode = new Map<number, { topicId: string; topic: string; partition: number; offset: bigint }[]>();
    for (const p of positions) {
      const topic = metadata.topics.get(p.topic);
      const leader = topic?.partitions[p.partition]?.leader;
      if (!topic || leader === undefined || leader < 0) {
        this.#fetcher.clearMetadata();
        throw new Error(
          `No leader is known for ${partitionKey(p.topic, p.partition)} (the cluster is electing one)`,
        );
      }
      const list = byNode.get(leader) ?? [];
      list.push({ topicId: topic.id, topic: p.topic, partition: p.partition, offset: p.offset });
      byNode.set(leader, list);
    }
    const results = await Promise.all(
      [...byNode].map(async ([node, parts]) => {
        const topicIds = new Map<string, string>();
        const requests = new Map<
          string,
          {
            partition: number;
            fetchOffset: bigint;
            partitionMaxBytes: number;
            currentLeaderEpoch: number;
            lastFetchedEpoch: number;
          }[]
        >();
        for (const p of parts) {
          topicIds.set(p.topicId, p.topic);
          const list = requests.get(p.topicId) ?? [];
          list.push({
            partition: p.partition,
            fetchOffset: p.offset,
            partitionMaxBytes: options.maxBytes,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          });
          requests.set(p.topicId, list);
        }
        let response: Awaited<ReturnType<Consumer["fetch"]>>;
        try {
          response = await this.#fetcher.fetch({
            node,
            maxWaitTime: options.maxWaitMs,
            minBytes: 1,
            maxBytes: options.maxBytes,
            topics: [...requests].map(([topicId, partitions]) => ({ topicId, partitions })),
          });
        } catch (error) {
          // Partition errors (offset out of range, leader moved) come with the whole response.
          const answered = (error as { response?: typeof response }).response;
          if (!answered?.responses) throw error;
          this.#fetcher.clearMetadata();
          response = answered;
        }
        const requested = new Map(parts.map((p) => [partitionKey(p.topic, p.partition), p.offset]));
        const fetched: PartitionFetch[] = [];
        for (const topicResponse of response.responses) {
          const topic = topicIds.get(topicResponse.topicId) ?? topicResponse.topicId;
          for (const partitionResponse of topicResponse.partitions) {
            const key = partitionKey(topic, partitionResponse.partitionIndex);
            const from = requested.get(key);
            if (from === undefined) continue;
            const records: KafkaRecordRead[] = [];
            let nextOffset = from;
            for (const batch of partitionResponse.records ?? []) {
              const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
              if (last + 1n > nextOffset) nextOffset = last + 1n;
              // Control batches (transaction markers) carry no events.
              if (batch.attributes & 0x20) continue;
              for (const record of batch.records) {
                const offset = batch.firstOffset + BigInt(record.offsetDelta);
                if (offset < from) continue;
                records.push({
                  offset,
                  timestamp: batch.firstTimestamp + record.timestampDelta,
                  key: record.key,
                  value: record.value,
                });
              }
            }
            fetched.push({
              topic,
              partition: partitionResponse.partitionIndex,
              records,
              nextOffset,
              highWatermark: partitionResponse.highWatermark,
              logStartOffset: partitionResponse.logStartOffset,
              error: partitionResponse.errorCode === 0 ? null : errorName(partitionResponse.errorCode),
            });
          }
        }
        return fetched;
      }),
    );
    return results.flat();
  }

  /** Commits group offsets in Kafka (so the cluster's own tools see the group's progress). */
  async commit(offsets: readonly { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    if (offsets.length === 0 || !this.#group.isActive()) return;
    await this.#group.commit({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /** Leaves the group (its partitions go to the other members at once) and closes the connections. */
  async close(): Promise<void> {
    // Closing leaves the group; with the brokers away it cannot, so it is bounded in time.
    await Promise.race([
      Promise.all([this.#group.close(true).catch(() => {}), this.#fetcher.close(true).catch(() => {})]),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
  }
}

const errorNames: Record<number, string> = {
  1: "OFFSET_OUT_OF_RANGE",
  3: "UNKNOWN_TOPIC_OR_PARTITION",
  6: "NOT_LEADER_OR_FOLLOWER",
  29: "TOPIC_AUTHORIZATION_FAILED",
  74: "FENCED_LEADER_EPOCH",
  75: "UNKNOWN_LEADER_EPOCH",
};

function errorName(code: number): string {
  return errorNames[code] ?? `KAFKA_ERROR_${code}`;
}

/** An idempotent producer (acks=all): a retried send never writes a record twice. */
export class KafkaRecordProducer {
  readonly #producer: Producer;

  constructor(settings: KafkaConnectionSettings, role = "producer") {
    this.#producer = new Producer({
      ...clientOptions(settings, role),
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    this.#producer.on("error", () => {});
  }

  /** Sends records; resolves once every broker acknowledged them. */
  async send(records: readonly KafkaRecordOut[]): Promise<void> {
    if (records.length === 0) return;
    await this.#producer.send({
      messages: records.map((r) => ({
        topic: r.topic,
        key: Buffer.from(r.key, "utf8"),
        value: typeof r.value === "string" ? Buffer.from(r.value, "utf8") : r.value,
        ...(r.headers
          ? {
              headers: new Map(
                Object.entries(r.headers).map(([k, v]) => [Buffer.from(k, "utf8"), Buffer.from(v, "utf8")]),
              ),
            }
          : {}),
      })),
    });
  }

  async close(): Promise<void> {
    await this.#producer.close(true).catch(() => {});
  }
}

/** What went wrong talking to Kafka, in the words of the check that failed. */
export interface KafkaFailure {
  kind: "reach" | "tls" | "auth" | "topic" | "permissions" | "other";
  message: string;
}

/** Classifies a client error: unreachable, TLS, authentication, missing topic, ACL, other. */
export function classifyKafkaError(error: unknown, brokers: readonly string[]): KafkaFailure {
  const err = error instanceof Error ? error : new Error(String(error));
  const text = flatten(err);
  if (findErrorBy(err, "apiId", "SASL_AUTHENTICATION_FAILED") || /SASL|authenticat/i.test(text)) {
    const detail = /Authentication failed[^.\n]*|Invalid username or password|invalid credentials/i.exec(
      text,
    )?.[0];
    return {
      kind: "auth",
      message: `The brokers refused the SASL credentials${detail ? ` (${detail})` : ""}: check sasl.mechanism, sasl.username and sasl.password`,
    };
  }
  if (
    findErrorBy(err, "apiId", "UNSUPPORTED_SASL_MECHANISM") ||
    /UNSUPPORTED_SASL_MECHANISM|ILLEGAL_SASL_STATE/.test(text)
  ) {
    return {
      kind: "auth",
      message: "The brokers do not accept this SASL mechanism on this listener: check sasl.mechanism",
    };
  }
  if (/certificate|self[- ]signed|SSL|TLS|EPROTO|handshake/i.test(text)) {
    return {
      kind: "tls",
      message: `The TLS handshake with the brokers failed (${firstLine(text)}): check tls.enabled, tls.ca and tls.server_name`,
    };
  }
  if (findErrorBy(err, "apiId", "TOPIC_AUTHORIZATION_FAILED")) {
    return {
      kind: "permissions",
      message: "The user is not allowed to use a topic (TOPIC_AUTHORIZATION_FAILED): see the ACLs to grant",
    };
  }
  if (findErrorBy(err, "apiId", "GROUP_AUTHORIZATION_FAILED")) {
    return {
      kind: "permissions",
      message:
        "The user is not allowed to use the consumer group (GROUP_AUTHORIZATION_FAILED): grant READ on the group",
    };
  }
  if (findErrorBy(err, "apiId", "CLUSTER_AUTHORIZATION_FAILED")) {
    return {
      kind: "permissions",
      message: "The user lacks a cluster permission (CLUSTER_AUTHORIZATION_FAILED)",
    };
  }
  if (findErrorBy(err, "apiId", "UNKNOWN_TOPIC_OR_PARTITION")) {
    return { kind: "topic", message: "A topic does not exist on the cluster (UNKNOWN_TOPIC_OR_PARTITION)" };
  }
  if (
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|timed out|Connection closed|socket|network/i.test(
      text,
    )
  ) {
    return {
      kind: "reach",
      message: `cqa cannot reach the brokers ${brokers.join(", ")} (${firstLine(text)}): check the addresses, that the brokers run, and that a firewall lets cqa's address reach these ports`,
    };
  }
  return { kind: "other", message: firstLine(text) };
}

function flatten(error: Error): string {
  const parts: string[] = [`${(error as { code?: string }).code ?? ""} ${error.message}`];
  const nested = (error as { errors?: unknown[] }).errors;
  if (Array.isArray(nested)) for (const e of nested) if (e instanceof Error) parts.push(flatten(e));
  if (error.cause instanceof Error) parts.push(flatten(error.cause));
  return parts.join(" | ");
}

function firstLine(text: string): string {
  const cleaned = text
    .split(" | ")
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && !/failed \d+ times/.test(p));
  return (cleaned.at(-1) ?? text).slice(0, 300);
}

const operationBit = (operation: number) => 1 << operation;

/**
 * "Test connection": reach → TLS → auth → topics exist → permissions (READ on the event topics and the
 * group, WRITE on the feedback and dead-letter topics). Each failure says what to change; nothing
 * is consumed, produced or committed, and the group is not joined (running consumers are left alone).
 */
export async function checkKafkaConnection(config: Ecc6xKafkaConfig): Promise<ConnectionCheck[]> {
  const checks: ConnectionCheck[] = [];
  const admin = new Admin({
    ...clientOptions(config, "test"),
    retries: 0,
    connectTimeout: 5_000,
    requestTimeout: 10_000,
  });
  admin.on("error", () => {});
  const writeTopics = [config.feedback_topic, config.dead_letter_topic].filter(
    (t): t is string => t !== null,
  );
  const allTopics = [...new Set([...config.topics, ...writeTopics])];
  const answering = { name: "reach", ok: true, message: `The brokers ${config.brokers.join(", ")} answer` };
  try {
    // TLS is checked on its own first: the client reports its faults as closed connections.
    let tlsCheck: ConnectionCheck | null = null;
    if (config.tls.enabled) {
      const verdict = await checkBrokerTls(config);
      if (verdict.outcome === "unreachable") {
        checks.push({ name: "reach", ok: false, message: verdict.message });
        return checks;
      }
      if (verdict.outcome === "failed") {
        checks.push(answering, { name: "tls", ok: false, message: verdict.message });
        return checks;
      }
      tlsCheck = { name: "tls", ok: true, message: verdict.message };
    }
    let connections: Map<number, unknown>;
    try {
      await admin.metadata({ topics: [] });
      connections = await admin.connectToBrokers(null);
    } catch (error) {
      let failure = classifyKafkaError(error, config.brokers);
      if (!config.tls.enabled) {
        // A plaintext client on a TLS listener looks like a closed connection or a failed SASL exchange.
        const listenerWantsTls = await plaintextOnTlsListener(config);
        if (listenerWantsTls) failure = { kind: "tls", message: listenerWantsTls };
      }
      if (failure.kind === "tls") {
        checks.push(answering, { name: "tls", ok: false, message: failure.message });
      } else if (failure.kind === "auth") {
        checks.push(answering, ...(tlsCheck ? [tlsCheck] : []), {
          name: "auth",
          ok: false,
          message: failure.message,
        });
      } else {
        checks.push({ name: "reach", ok: false, message: failure.message });
      }
      return checks;
    }
    checks.push({
      name: "reach",
      ok: true,
      message: `The cluster answers at ${config.brokers.join(", ")} (${connections.size} broker(s) reached)`,
    });
    if (tlsCheck) checks.push(tlsCheck);
    checks.push({
      name: "auth",
      ok: true,
      message: config.sasl
        ? `Signed in as '${config.sasl.username}' with SASL ${config.sasl.mechanism}${config.tls.enabled ? " over TLS" : ""}`
        : config.tls.cert
          ? "No SASL sign-in configured; the brokers accept cqa's client certificate (mutual TLS)"
          : `No SASL sign-in configured; the brokers accept the connection${config.tls.enabled ? " (TLS)" : ""}`,
    });

    const connection = [...connections.values()][0] as Parameters<typeof metadataV12.api.async>[0];
    type MetadataAnswer = Awaited<ReturnType<typeof metadataV12.api.async>>;
    // A topic that is missing or closed to this user comes back as an error carrying the whole answer.
    const answer: MetadataAnswer = await metadataV12.api
      .async(connection, allTopics, false, true)
      .catch((error) => {
        const response = (error as { response?: MetadataAnswer }).response;
        if (!response?.topics) throw error;
        return response;
      });
    const missing: string[] = [];
    const hidden: string[] = [];
    const denied: string[] = [];
    for (const topic of allTopics) {
      const entry = answer.topics.find((t) => t.name === topic);
      const code = entry?.errorCode ?? 3;
      if (code === 29) {
        // Kafka answers the same for a topic that does not exist and one the user may not see.
        hidden.push(topic);
        denied.push(`DESCRIBE on topic '${topic}'`);
        continue;
      }
      if (code !== 0) {
        missing.push(topic);
        continue;
      }
      const ops = entry?.topicAuthorizedOperations ?? -2147483648;
      if (ops === -2147483648) continue;
      if (config.topics.includes(topic) && !(ops & operationBit(AclOperations.READ)))
        denied.push(`READ on topic '${topic}'`);
      if (writeTopics.includes(topic) && !(ops & operationBit(AclOperations.WRITE)))
        denied.push(`WRITE on topic '${topic}'`);
    }
    const user = config.sasl ? `User:${config.sasl.username}` : "this client";
    checks.push(
      missing.length === 0 && hidden.length === 0
        ? { name: "topic", ok: true, message: `Topic(s) ${allTopics.join(", ")} exist` }
        : {
            name: "topic",
            ok: false,
            message: [
              missing.length > 0
                ? `Topic(s) ${missing.join(", ")} do not exist on the cluster: create them (or correct the name in the config).`
                : "",
              hidden.length > 0
                ? `Topic(s) ${hidden.join(", ")} do not exist or are hidden from ${user} (Kafka answers the same when the ACLs do not allow DESCRIBE): check the name, then the ACLs.`
                : "",
            ]
              .filter((m) => m !== "")
              .join(" "),
          },
    );
    // A new cluster creates its group coordinator (__consumer_offsets) on first use: give it a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        const groups = await admin.describeGroups({
          groups: [config.group_id],
          includeAuthorizedOperations: true,
        });
        const group = groups.get(config.group_id);
        const ops = group?.authorizedOperations ?? -2147483648;
        if (ops !== -2147483648 && ops !== 0 && !(ops & operationBit(AclOperations.READ)))
          denied.push(`READ on group '${config.group_id}'`);
        break;
      } catch (error) {
        if (findErrorBy(error as Error, "apiId", "GROUP_AUTHORIZATION_FAILED")) {
          denied.push(`READ on group '${config.group_id}'`);
          break;
        }
        const loading =
          findErrorBy(error as Error, "apiId", "COORDINATOR_NOT_AVAILABLE") ||
          findErrorBy(error as Error, "apiId", "COORDINATOR_LOAD_IN_PROGRESS") ||
          findErrorBy(error as Error, "apiId", "NOT_COORDINATOR");
        if (!loading) throw error;
        if (attempt >= 20) {
          checks.push({
            name: "group",
            ok: false,
            message: `The cluster's group coordinator does not answer for group '${config.group_id}' (${firstLine(flatten(error as Error))}): check the brokers' __consumer_offsets topic`,
          });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    checks.push(
      denied.length === 0
        ? {
            name: "permissions",
            ok: true,
            message: `Allowed: READ on ${config.topics.join(", ")} and on group '${config.group_id}'${writeTopics.length > 0 ? `, WRITE on ${writeTopics.join(", ")}` : ""}`,
          }
        : {
            name: "permissions",
            ok: false,
            message: `The Kafka ACLs do not allow ${user}: ${denied.join(", ")}. Ask the Kafka admins to grant ${denied.length > 1 ? "them" : "it"}`,
          },
    );
    return checks;
  } catch (error) {
    const failure = classifyKafkaError(error, config.brokers);
    checks.push({
      name: failure.kind === "other" ? "cluster" : failure.kind,
      ok: false,
      message: failure.message,
    });
    return checks;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The offsets a partition holds: from `first` (older ones deleted by retention) to `end` (the next to be written). */
export interface PartitionRange {
  first: bigint;
  end: bigint;
}

/**
 * The partitions of each topic with their first and end offsets; null for a topic the cluster does
 * not have (or hides from this user). Throws when the cluster cannot be reached.
 */
export async function partitionRanges(
  settings: KafkaConnectionSettings,
  topics: readonly string[],
): Promise<Map<string, PartitionRange[] | null>> {
  const reader = new Consumer({
    ...clientOptions(settings, "offsets"),
    groupId: `${settings.client_id}-offsets`,
    autocommit: false,
    retries: 0,
    connectTimeout: 5_000,
    requestTimeout: 10_000,
  });
  reader.on("error", () => {});
  const ranges = new Map<string, PartitionRange[] | null>();
  try {
    for (const topic of topics) {
      let known: boolean;
      try {
        known = (await reader.metadata({ topics: [topic], forceUpdate: true })).topics.has(topic);
      } catch (error) {
        // The client answers a missing topic with a UserError "Unknown topic …" of its own.
        const missing =
          /^Unknown topic /.test((error as Error).message) ||
          findErrorBy(error as Error, "apiId", "UNKNOWN_TOPIC_OR_PARTITION") ||
          findErrorBy(error as Error, "apiId", "TOPIC_AUTHORIZATION_FAILED");
        if (!missing) throw error;
        known = false;
      }
      if (!known) {
        ranges.set(topic, null);
        continue;
      }
      const [first, end] = await Promise.all(
        [ListOffsetTimestamps.EARLIEST, ListOffsetTimestamps.LATEST].map((timestamp) =>
          reader.listOffsets({ topics: [topic], timestamp }),
        ),
      );
      const ends = end?.get(topic) ?? [];
      ranges.set(
        topic,
        (first?.get(topic) ?? []).map((offset, partition) => ({
          first: offset >= 0n ? offset : 0n,
          end: ends[partition] ?? 0n,
        })),
      );
    }
    return ranges;
  } finally {
    await reader.close(true).catch(() => {});
  }
}

/**
 * Reads one record again by its place (`topic/partition@offset`, a dead letter's source), e.g. to retry
 * an event whose dead letter kept only a cut copy. Throws when the topic no longer holds it.
 */
export async function fetchOneRecord(
  settings: KafkaConnectionSettings,
  sourceRef: string,
): Promise<Buffer | null> {
  const place = /^(.+)\/(\d+)@(\d+)$/.exec(sourceRef);
  if (!place) throw new Error(`'${sourceRef}' is not a Kafka record's place (topic/partition@offset)`);
  const [, topic = "", partitionText = "0", offsetText = "0"] = place;
  const partition = Number(partitionText);
  const offset = BigInt(offsetText);
  const reader = new Consumer({
    ...clientOptions(settings, "retry"),
    groupId: `${settings.client_id}-retry`,
    autocommit: false,
  });
  reader.on("error", () => {});
  try {
    reader.topics.track(topic);
    const metadata = await reader.metadata({ topics: [topic] });
    const meta = metadata.topics.get(topic);
    const leader = meta?.partitions[partition]?.leader;
    if (!meta || leader === undefined) throw new Error(`Topic ${topic} has no partition ${partition}`);
    const response = await reader.fetch({
      node: leader,
      maxWaitTime: 100,
      maxBytes: 64 * 1024 * 1024,
      topics: [
        {
          topicId: meta.id,
          partitions: [
            {
              partition,
              fetchOffset: offset,
              partitionMaxBytes: 64 * 1024 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    });
    for (const t of response.responses)
      for (const p of t.partitions)
        for (const batch of p.records ?? [])
          for (const r of batch.records)
            if (batch.firstOffset + BigInt(r.offsetDelta) === offset) return r.value;
    throw new Error(`${sourceRef} is no longer in the topic (its retention deleted it)`);
  } finally {
    await reader.close(true).catch(() => {});
  }
}

// Tools for tests, benchmarks and local trials: create topics, grant ACLs, produce and read raw
// records. Kept here so the client library is imported in one place.

/** An admin session on a cluster (tests and benchmarks). */
export class KafkaTestTool {
  readonly #admin: Admin;
  readonly #producer: KafkaRecordProducer;
  readonly #settings: KafkaConnectionSettings;

  constructor(settings: KafkaConnectionSettings) {
    this.#settings = settings;
    this.#admin = new Admin(clientOptions(settings, "tool"));
    this.#producer = new KafkaRecordProducer(settings, "tool-producer");
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.#admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  }

  /** Grants a user READ or WRITE on a topic, or READ on a group. */
  async grant(
    user: string,
    resource: { topic?: string; group?: string },
    operation: "READ" | "WRITE" | "DESCRIBE",
  ): Promise<void> {
    await this.#admin.createAcls({
      creations: [
        {
          resourceType: resource.topic ? 2 : 3,
          resourceName: resource.topic ?? resource.group ?? "",
          resourcePatternType: 3,
          principal: `User:${user}`,
          host: "*",
          operation: AclOperations[operation],
          permissionType: 3,
        },
      ],
    });
  }

  /** Produces records keyed as given; `value` strings are sent as UTF-8. */
  async produce(records: readonly KafkaRecordOut[]): Promise<void> {
    await this.#producer.send(records);
  }

  /** Reads a whole topic from the start (up to its current end): key, value and headers per record. */
  async readAll(topic: string): Promise<
    {
      partition: number;
      offset: bigint;
      key: string | null;
      value: Buffer | null;
      headers: Record<string, string>;
    }[]
  > {
    const reader = new Consumer({
      ...clientOptions(this.#settings, "tool-reader"),
      groupId: `cqa-tool-${Date.now()}`,
    });
    try {
      reader.topics.track(topic);
      const ends = await reader.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST });
      const metadata = await reader.metadata({ topics: [topic] });
      const meta = metadata.topics.get(topic)!;
      const out: {
        partition: number;
        offset: bigint;
        key: string | null;
        value: Buffer | null;
        headers: Record<string, string>;
      }[] = [];
      for (const [partition, end] of (ends.get(topic) ?? []).entries()) {
        let offset = 0n;
        while (offset < end) {
          const response = await reader.fetch({
            node: meta.partitions[partition]!.leader,
            maxWaitTime: 100,
            maxBytes: 32 * 1024 * 1024,
            topics: [
              {
                topicId: meta.id,
                partitions: [
                  {
                    partition,
                    fetchOffset: offset,
                    partitionMaxBytes: 32 * 1024 * 1024,
                    currentLeaderEpoch: -1,
                    lastFetchedEpoch: -1,
                  },
                ],
              },
            ],
          });
          let advanced = false;
          for (const t of response.responses)
            for (const p of t.partitions)
              for (const batch of p.records ?? []) {
                const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
                if (last + 1n > offset) {
                  offset = last + 1n;
                  advanced = true;
                }
                if (batch.attributes & 0x20) continue;
                for (const r of batch.records) {
                  const o = batch.firstOffset + BigInt(r.offsetDelta);
                  out.push({
                    partition,
                    offset: o,
                    key: r.key ? r.key.toString("utf8") : null,
                    value: r.value,
                    headers: Object.fromEntries(
                      r.headers.map(([k, v]) => [k?.toString("utf8") ?? "", v?.toString("utf8") ?? ""]),
                    ),
                  });
                }
              }
          if (!advanced) break;
        }
      }
      return out;
    } finally {
      await reader.close(true).catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.#producer.close();
    await this.#admin.close().catch(() => {});
  }
}

/**
 * The bare consume loop of the benchmark: this client, a consumer group, nothing done per record but
 * counting. Answers how many were read and the time from the first record to the last (ms).
 */
export async function bareConsume(
  settings: KafkaConnectionSettings,
  topic: string,
  count: number,
): Promise<{ read: number; elapsedMs: number }> {
  const consumer = new Consumer({
    ...clientOptions(settings, "bench"),
    groupId: `cqa-bench-bare-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    autocommit: false,
  });
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: "earliest",
      autocommit: false,
      maxWaitTime: 100,
    });
    let read = 0;
    let first = 0;
    for await (const _message of stream) {
      if (read === 0) first = performance.now();
      read++;
      if (read >= count) break;
    }
    const elapsedMs = performance.now() - first;
    await stream.close().catch(() => {});
    return { read, elapsedMs };
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** Follows a topic from its start, calling `onRecord` with each record's key as it arrives. */
export async function followTopic(
  settings: KafkaConnectionSettings,
  topic: string,
  onRecord: (key: string | null) => void,
): Promise<() => Promise<void>> {
  const consumer = new Consumer({
    ...clientOptions(settings, "follow"),
    groupId: `cqa-follow-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    autocommit: false,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: "earliest",
    autocommit: false,
    maxWaitTime: 50,
  });
  stream.on("data", (message) => onRecord(message.key ? message.key.toString("utf8") : null));
  stream.on("error", () => {});
  return async () => {
    await stream.close().catch(() => {});
    await consumer.close(true).catch(() => {});
  };
}
