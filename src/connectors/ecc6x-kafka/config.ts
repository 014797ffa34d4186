import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { z } from "zod";

// The ECC6x Kafka integration's settings. Connection settings (brokers, TLS, SASL) are apart from
// behaviour (topics, group, start position, mapping); the schema is the API validation, the
// dashboard form and the reference in docs/integrations/ecc6x-kafka.md.

const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, {
  error: "{path} must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-'",
});

const brokerAddress = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, {
  error: "{path} must be host:port, e.g. kafka1.ecc.internal:9092",
});

/** Each certificate of a PEM bundle, or null when one does not parse. */
function parseCertificates(text: string): X509Certificate[] | null {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return null;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return null;
  }
}

function parsePrivateKey(text: string): KeyObject | null {
  try {
    return createPrivateKey(text);
  } catch {
    return null;
  }
}

const pemCertificates = (what: string) =>
  z
    .string()
    .refine((v) => parseCertificates(v) !== null, {
      error: `{path} must be ${what} in PEM form (-----BEGIN CERTIFICATE----- …), and each must parse`,
    })
    .nullable()
    .default(null);

const pemKey = z
  .string()
  .refine((v) => parsePrivateKey(v) !== null, {
    error: "{path} must be an unencrypted private key in PEM form (-----BEGIN PRIVATE KEY----- …)",
  })
  .nullable()
  .default(null);

/** Whether the first certificate of `cert` is for `key` (both parse; checked before). */
function certificateMatchesKey(cert: string, key: string): boolean {
  const certificate = parseCertificates(cert)?.[0];
  const privateKey = parsePrivateKey(key);
  return !certificate || !privateKey || certificate.checkPrivateKey(privateKey);
}

/** A dotted path into the event JSON (`agent.id`), or null to leave the field out. */
const eventPath = (defaultPath: string | null, meaning: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, {
      error: "{path} must be a dotted path into the event, e.g. agent.id",
    })
    .nullable()
    .default(defaultPath)
    .describe(meaning);

/** Where each canonical field is found in an event; the defaults are the documented ECC6x event. */
export const fieldMappingSchema = z
  .object({
    external_interaction_id: z
      .string()
      .regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, {
        error: "{path} must be a dotted path into the event, e.g. call_sid",
      })
      .default("call_sid")
      .describe("The call SID: the interaction's unique id, the dedupe key and the feedback record's key."),
    channel_type: eventPath("channel", "VOICE, CHAT… (default_channel when absent)."),
    direction: eventPath("direction", "INBOUND / OUTBOUND; kept as metadata.direction."),
    agent_id: eventPath("agent.id", "Kept as metadata.agent_id (reports by agent)."),
    agent_name: eventPath("agent.name", "Kept as metadata.agent_name."),
    campaign: eventPath("campaign", "Kept as metadata.campaign."),
    start_time: eventPath("start_time", "ISO-8601 or epoch milliseconds: the interaction's start."),
    end_time: eventPath("end_time", "ISO-8601 or epoch milliseconds; kept as metadata.end_time."),
    duration_seconds: eventPath("duration_seconds", "Whole seconds (a numeric string is accepted)."),
    recording_url: eventPath("recording_url", "http(s) or s3 URL of the recording."),
    voice_log_id: eventPath(
      "voice_log_id",
      "Voice Log reference, turned into a URL by voice_log_url_template when there is no recording_url.",
    ),
    transcript: eventPath(
      "transcript",
      "Transcript text, or a list of turns [{speaker, text}]; analysed without fetching the recording.",
    ),
    language: eventPath("language", "Language code, e.g. en, hi."),
    metadata: eventPath("metadata", "An object of extra key-value tags, merged into metadata."),
  })
  .strict();

export type FieldMapping = z.output<typeof fieldMappingSchema>;

const startPositionSchema = z
  .discriminatedUnion(
    "type",
    [
      z.object({ type: z.literal("earliest") }),
      z.object({ type: z.literal("latest") }),
      z.object({
        type: z.literal("timestamp"),
        at: z.iso.datetime({
          offset: true,
          error: "{path} must be an ISO-8601 date-time, e.g. 2026-05-01T00:00:00Z",
        }),
      }),
    ],
    { error: '{path} must be {"type": "earliest"}, {"type": "latest"} or {"type": "timestamp", "at": "…"}' },
  )
  .default({ type: "earliest" })
  .describe(
    "Where a partition this integration has never read starts: earliest (everything the topic keeps), " +
      "latest (only new events) or the first event at or after a time.",
  );

export const ecc6xKafkaConfigSchema = z
  .object({
    brokers: z
      .array(brokerAddress)
      .min(1, { error: "brokers must list at least one bootstrap broker (host:port)" })
      .describe("Bootstrap brokers, host:port. cqa needs to reach every broker of the cluster."),
    topics: z
      .array(topicName)
      .min(1, { error: "topics must name at least one topic" })
      .max(20)
      .describe("The topic(s) ECC6x publishes conversation events to."),
    group_id: z
      .string()
      .min(1)
      .max(255)
      .default("cqa-ecc6x")
      .describe("Consumer group; every cqa worker joins it and the partitions are shared among them."),
    client_id: z
      .string()
      .min(1)
      .max(255)
      .default("cqa")
      .describe("Client id shown in the brokers' logs and quotas."),
    start_position: startPositionSchema,
    tls: z
      .object({
        enabled: z.boolean().default(false).describe("Connect with TLS (SSL or SASL_SSL listeners)."),
        ca: pemCertificates("the CA certificate(s)").describe(
          "CA certificate(s) that signed the brokers' certificates (PEM); the system CAs when null.",
        ),
        cert: pemCertificates("a certificate").describe(
          "Client certificate for mutual TLS (PEM), when the brokers require one (ssl.client.auth=required).",
        ),
        key: pemKey.describe("Private key of the client certificate (PEM, unencrypted)."),
        server_name: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe("Name to verify the brokers' certificates against, when it differs from the host."),
        reject_unauthorized: z
          .boolean()
          .default(true)
          .describe("Refuse brokers whose certificate does not verify. Turn off only to diagnose."),
      })
      .strict()
      .refine((tls) => (tls.cert === null) === (tls.key === null), {
        error: "tls.cert and tls.key go together: give both for mutual TLS, or neither",
      })
      .refine((tls) => tls.cert === null || tls.key === null || certificateMatchesKey(tls.cert, tls.key), {
        error: "tls.key is not the private key of tls.cert: give the key the certificate was issued for",
      })
      .default({
        enabled: false,
        ca: null,
        cert: null,
        key: null,
        server_name: null,
        reject_unauthorized: true,
      })
      .describe("TLS settings."),
    sasl: z
      .object({
        mechanism: z
          .enum(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], {
            error: "{path} must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
          })
          .describe("SASL mechanism the brokers' listener accepts."),
        username: z.string().min(1).describe("SASL user."),
        password: z.string().min(1).describe("SASL password."),
      })
      .strict()
      .nullable()
      .default(null)
      .describe("SASL authentication; null for none."),
    feedback_topic: topicName
      .nullable()
      .default(null)
      .describe("Topic the analysis results are produced to, keyed by the call SID; null sends none."),
    feedback_failures: z
      .boolean()
      .default(true)
      .describe("Also produce a record when an analysis fails (event INTERACTION_ANALYSIS_FAILED)."),
    dead_letter_topic: topicName
      .nullable()
      .default(null)
      .describe(
        "Topic each event that cannot be ingested is copied to, with its reason in headers (it is always " +
          "kept in the integration's dead letters too); null for none.",
      ),
    event: z
      .object({
        max_bytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024)
          .describe("Largest event accepted; a larger one is dead-lettered (reason TOO_LARGE)."),
        default_channel: z
          .string()
          .min(1)
          .max(32)
          .default("VOICE")
          .describe("channel_type when the event has none."),
        source: z.string().min(1).max(255).default("ecc6x").describe("Stored as the interactions' source."),
        voice_log_url_template: z
          .string()
          .refine((v) => v.includes("{voice_log_id}") && /^(https?|s3):\/\//.test(v), {
            error: "{path} must be an http(s) or s3 URL containing {voice_log_id}",
          })
          .nullable()
          .default(null)
          .describe(
            "URL of a recording by its Voice Log reference, e.g. https://vla.ecc.internal/recordings/{voice_log_id}.wav.",
          ),
        mapping: fieldMappingSchema
          .default(fieldMappingSchema.parse({}))
          .describe("Where each field is in the event."),
      })
      .strict()
      .default({
        max_bytes: 1024 * 1024,
        default_channel: "VOICE",
        source: "ecc6x",
        voice_log_url_template: null,
        mapping: fieldMappingSchema.parse({}),
      })
      .describe("The event schema: size limit and field mapping."),
    consumer: z
      .object({
        max_batch_records: z
          .number()
          .int()
          .min(1)
          .max(5000)
          .default(500)
          .describe("Most events stored (and offsets committed) in one transaction."),
        max_wait_ms: z
          .number()
          .int()
          .min(10)
          .max(10_000)
          .default(250)
          .describe("How long a fetch waits at the broker for new events."),
        session_timeout_ms: z
          .number()
          .int()
          .min(1000)
          .max(300_000)
          .default(30_000)
          .describe("How long the group waits for a silent worker before giving its partitions to another."),
      })
      .strict()
      .default({ max_batch_records: 500, max_wait_ms: 250, session_timeout_ms: 30_000 })
      .describe("Consumer tuning."),
  })
  .strict();

export type Ecc6xKafkaConfig = z.output<typeof ecc6xKafkaConfigSchema>;

/** Secret fields: sealed at rest, write-only in the API. */
export const ecc6xKafkaSecretFields = ["sasl.password", "tls.key"] as const;

/**
 * The checkpoint: the next offset to read per partition ("topic/partition"), advanced in the
 * transaction that stores the events before it. It mirrors the per-partition offsets table.
 */
export const ecc6xKafkaCheckpointSchema = z.object({
  partitions: z.record(z.string(), z.number().int().min(0)),
});

export type Ecc6xKafkaCheckpoint = z.output<typeof ecc6xKafkaCheckpointSchema>;
