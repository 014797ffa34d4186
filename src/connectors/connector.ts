import type { z } from "zod";
import type { Clock } from "../core/clock.ts";
import type { IngestItemResult } from "../ingest/ingestInteractions.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import type { CredentialedFetchLimits, FetchOwner } from "../net/credentialedFetch.ts";
import type { SafeStreamResponse } from "../net/safeFetch.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { Queryable } from "../storage/db.ts";
import type { InboxEntry } from "../storage/repositories/sftpFiles.ts";

/**
 * A connector to a system a contact centre runs. Declared, not wired by hand: the registry lists
 * definitions, and the stored config, the API validation, the dashboard form (JSON Schema) and the
 * reference docs all come from `configSchema`.
 *
 * - `poll` connectors are run by the scheduler (and on demand, and for backfills) as durable jobs:
 *   a run that dies is run again and continues from the checkpoint.
 * - `stream` connectors consume continuously in every worker process (e.g. a Kafka consumer group).
 */
export interface ConnectorDefinition<Config = unknown, Checkpoint = unknown> {
  kind: string;
  version: number;
  /** Human name, e.g. "ECC6x — Kafka, both ways". */
  title: string;
  summary: string;
  mode: "poll" | "stream";
  /** The whole config, secrets included. Its JSON Schema is the catalogue entry and the form. */
  configSchema: z.ZodType<Config>;
  /** Dotted paths of secret fields: sealed at rest, never returned (write-only in the schema). */
  secretFields: readonly string[];
  checkpointSchema: z.ZodType<Checkpoint>;
  /** The schedule a new integration of this kind gets when none is given (poll connectors). */
  defaultSchedule?: Schedule | null;
  /** Whether `POST …/run` takes a `{from, to}` range (backfill / replay). */
  supportsRange: boolean;
  create(context: ConnectorContext<Config, Checkpoint>): ConnectorInstance;
}

/** When a poll connector runs on its own. Daily times are in the account's time zone. */
export type Schedule = { type: "daily"; at: string } | { type: "interval"; every_seconds: number };

/** Where a replay starts, by position: offset by partition number by topic (`{"events": {"0": 1200}}`). */
export type ReplayOffsets = Record<string, Record<string, number>>;

/** One check of "test connection": reach, auth, permissions, format… each readable by an IT admin. */
export interface ConnectionCheck {
  name: string;
  ok: boolean;
  message: string;
}

/** A running connector of one integration. */
export interface ConnectorInstance {
  /** Checks the connection without ingesting anything; never throws, each failure is a check. */
  test(): Promise<ConnectionCheck[]>;
  /** Poll connectors: one run. Throw a retryable AppError to have the run job tried again later. */
  run?(run: RunContext): Promise<void>;
  /** Stream connectors: start consuming; resolve once started. */
  start?(): Promise<void>;
  /** Stream connectors: stop consuming and release everything (called on pause, edit, shutdown). */
  stop?(): Promise<void>;
  /**
   * Stream connectors that replay from positions (Kafka offsets): checks a `POST …/run {offsets}`
   * against the source — its topics, partitions and their first and end offsets — and throws a
   * VALIDATION_ERROR naming each problem. Absent when the connector replays from a time only.
   */
  checkReplayOffsets?(offsets: ReplayOffsets): Promise<void>;
  /** Source-specific lag: records behind for streams, seconds behind for pollers. */
  lag?(): Promise<unknown>;
  /**
   * Turns a dead letter's stored payload back into an item for a retry (after the mapping or the peer
   * was fixed). Default: the payload is parsed as JSON and mapped like a fresh record.
   */
  itemFromDeadLetter?(payload: string, sourceRef: string): Promise<unknown>;
  /**
   * Sends analysis results back to the source system (a Kafka feedback topic, an S3 output prefix…).
   * At least once, from the outbox: a re-delivery carries the same `deliveryId` and body, so write
   * idempotently (keyed by external id). Throw to have the batch tried again later.
   */
  deliverResults?(results: readonly AnalysisResultMessage[]): Promise<void>;
  /**
   * Opens a recording, transcript or file URL that needs this integration's credentials (an
   * `s3://` key of its bucket, the peer's recording URL); answers null for a URL that is not its own.
   * The pipeline calls it for interactions that came from this integration (and, for `s3://` URLs,
   * for any interaction or file job of the account).
   */
  openMedia?(
    url: string,
    owner: FetchOwner,
    limits: CredentialedFetchLimits,
  ): Promise<SafeStreamResponse | null>;
}

/** An analysis result for the integration an interaction came from. */
export interface AnalysisResultMessage {
  /** Stable across re-deliveries of this result. */
  deliveryId: string;
  event: string;
  interactionId: string | null;
  externalInteractionId: string | null;
  /** The result as JSON: the webhook body of INTERACTION_ANALYSIS_COMPLETED / _FAILED (camelCase). */
  body: string;
}

/** What a run is asked to do. */
export interface RunContext {
  runId: string;
  trigger: "schedule" | "manual" | "backfill";
  /** Backfill range, when given: [from, to). */
  from: Date | null;
  to: Date | null;
  /** Aborted when the process stops: stop soon, the run continues from the checkpoint later. */
  signal: AbortSignal;
}

/** One record read from a source, in the canonical item form, with where it came from. */
export interface SourceItem {
  /** Where in the source (topic/partition/offset, file and line, object key…). */
  sourceRef: string;
  /** The canonical interaction (the Standard API's ingest item), validated by the ingest path. */
  item: unknown;
  /** The record as read, kept in the dead letter if the item is rejected. */
  raw: string;
}

/** A record that could not even be mapped (not JSON, wrong schema, too large…). */
export interface UnreadableRecord {
  sourceRef: string;
  raw: string;
  code: string;
  reason: string;
}

/** What a connector gets to do its job; every write goes through the one canonical ingest path. */
export interface ConnectorContext<Config, Checkpoint> {
  integration: {
    id: string;
    accountId: string;
    name: string;
    kind: string;
    configVersion: number;
    timezone: string;
  };
  config: Config;
  clock: Clock;
  allow: FetchAllowList;
  blobs: BlobStore;
  log: ConnectorLog;
  /** The checkpoint as last committed. */
  readCheckpoint(): Promise<Checkpoint | null>;
  /**
   * Stream connectors: the replay (backfill) an operator asked for with `POST …/run {from, to}` or
   * `{offsets}`, taken once — call it on start and seek there. Null when none is pending.
   */
  takeReplayRequest(): Promise<{ from: Date | null; to: Date | null; offsets: ReplayOffsets | null } | null>;
  /**
   * Ingests records through the canonical path. In the same transaction: the new checkpoint (if
   * given), the run's counters, a dead letter for each rejected item and for each `unreadable`
   * record, and whatever `inTransaction` adds (e.g. a Kafka offset table). So the checkpoint never
   * runs ahead of stored data, and a crash re-reads instead of losing.
   */
  ingest(
    records: readonly SourceItem[],
    options?: {
      runId?: string | null;
      checkpoint?: Checkpoint;
      unreadable?: readonly UnreadableRecord[];
      seen?: number;
      inTransaction?: (tx: Queryable, results: IngestItemResult[]) => Promise<void>;
    },
  ): Promise<IngestItemResult[]>;
  /**
   * Which of these external ids the account has stored already: a source that reads records again on
   * purpose (a look-back window) skips those instead of counting them as duplicates.
   */
  storedExternalIds(externalIds: readonly string[]): Promise<Set<string>>;
  /**
   * The result document of an interaction (its facts and the analysis detail document of each profile
   * applied, as `GET /analyses/{id}` answers), for connectors that write results back; null if gone.
   */
  resultDocument(interactionId: string): Promise<Record<string, unknown> | null>;
  /**
   * The account's SFTP inbox (files uploaded to cqa's SFTP endpoint), read-only; a connector that moves
   * or writes files there does so inside `ingest(…, { inTransaction })`, with the data it ingested.
   */
  inbox: {
    list(folder: string): Promise<InboxEntry[]>;
    get(path: string): Promise<InboxEntry | null>;
  };
  /**
   * File-based sources: the version (ETag) at which each of these objects was taken in, by key. An
   * object whose version is unchanged is not read again; record versions in `ingest`'s `inTransaction`
   * with `recordSourceObjects`, so they commit with the interactions they produced.
   */
  processedObjects(keys: readonly string[]): Promise<Map<string, string>>;
  /** Records health for the status page: lag, and an error (or null once healthy again). */
  reportHealth(change: { lag?: unknown; error?: string | null; success?: boolean }): Promise<void>;
}

/** Connectors log nothing in normal operation; problems go here (JSON lines with the integration). */
export interface ConnectorLog {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
