import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { AppError, describeError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { type AccountLimits, resolveLimits } from "../core/limits.ts";
import { type FetchAllowList, isPrivateAddress } from "../net/allowList.ts";
import type { CredentialedFetcher } from "../net/credentialedFetch.ts";
import { safeFetchStream } from "../net/safeFetch.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { Database } from "../storage/db.ts";
import { enqueueJobs } from "../storage/jobQueue.ts";
import { addToOutbox, webhookMessage } from "../storage/outbox.ts";
import { type AccountRecord, getAccount } from "../storage/repositories/accounts.ts";
import {
  addIngestJobErrors,
  countActiveFileJobs,
  type IngestJobRecord,
  insertIngestJob,
  type JobError,
  listIngestJobErrors,
  lockIngestJob,
  updateIngestJob,
} from "../storage/repositories/ingestJobs.ts";
import { checkColumnMapping } from "./columnMapping.ts";
import { type FileDefaults, type FileRowOutcome, readFileRows } from "./fileRows.ts";
import { ingestInteractions } from "./ingestInteractions.ts";
import { isUrlWithScheme, metadataSchema } from "./interactionSchema.ts";

/** The job that downloads and ingests a submitted file. */
export const fileIngestionJob = "file.ingest";

/** The body of POST /ingress/interactions/files. */
export function fileSubmissionSchema(limits: Pick<AccountLimits, "metadataMaxKeys">) {
  return z.object({
    file_url: z
      .string({
        error: (i) => (i.input === undefined ? "file_url is required" : "file_url must be a string"),
      })
      .max(8192)
      .refine((v) => isUrlWithScheme(v, ["http:", "https:", "s3:"]), {
        error: "file_url must be an https://, http:// or s3:// URL",
      })
      .describe("Where to fetch the file: https (recommended), http or s3."),
    format: z
      .string({
        error: (i) => (i.input === undefined ? "format is required" : "format must be csv or ndjson"),
      })
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(["csv", "ndjson"], { error: "format must be csv or ndjson" })),
    source: z.string().max(255).optional().nullable().describe("Default source for rows without one."),
    pii_redacted: z.boolean({ error: "pii_redacted must be true or false" }).optional().nullable(),
    callback_url: z
      .string()
      .refine((v) => isUrlWithScheme(v, ["http:", "https:"]), {
        error: "callback_url must be an http:// or https:// URL",
      })
      .optional()
      .nullable(),
    column_mapping: z
      .record(z.string(), z.string(), {
        error: "column_mapping must be an object of your header → canonical name",
      })
      .superRefine((mapping, ctx) => {
        for (const problem of checkColumnMapping(mapping)) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .nullable(),
    metadata: metadataSchema(limits.metadataMaxKeys),
  });
}

export type FileSubmission = z.output<ReturnType<typeof fileSubmissionSchema>>;

/** What a stored file job remembers of its request. */
interface FileJobRequest {
  file_url: string;
  format: "csv" | "ndjson";
  column_mapping: Record<string, string> | null;
  defaults: FileDefaults;
}

export interface FileJobDependencies {
  db: Database;
  clock: Clock;
  allow: FetchAllowList;
  onQueued?: () => void;
  /** Opens s3:// file URLs with the account's S3 integration; without it they are refused. */
  credentials?: CredentialedFetcher;
}

/**
 * Accepts a file job: refuses private addresses up front (and again when fetching), enforces the
 * concurrent-jobs limit, then records the job and queues its work in one transaction.
 */
export async function submitFileJob(
  deps: FileJobDependencies,
  account: AccountRecord,
  limits: AccountLimits,
  submission: FileSubmission,
): Promise<string> {
  await assertFetchableUrl(submission.file_url, deps, account.id);
  const jobId = newId();
  const request: FileJobRequest = {
    file_url: submission.file_url,
    format: submission.format,
    column_mapping: submission.column_mapping ?? null,
    defaults: {
      ...(submission.source ? { source: submission.source } : {}),
      ...(submission.pii_redacted === undefined || submission.pii_redacted === null
        ? {}
        : { pii_redacted: submission.pii_redacted }),
      ...(submission.callback_url ? { callback_url: submission.callback_url } : {}),
      ...(submission.metadata ? { metadata: submission.metadata } : {}),
    },
  };
  await deps.db.transaction(async (tx) => {
    // Serialise submissions of one account so two requests cannot both slip under the limit.
    await tx.query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [account.id]);
    const active = await countActiveFileJobs(tx, account.id);
    if (active >= limits.maxConcurrentFileJobs) {
      throw new AppError(
        "TOO_MANY_JOBS",
        `Too many file jobs in progress (${active} of ${limits.maxConcurrentFileJobs}); wait for one to finish`,
        { retryAfterSeconds: 30 },
      );
    }
    const now = deps.clock.now();
    await insertIngestJob(tx, {
      id: jobId,
      accountId: account.id,
      type: "file",
      status: "pending",
      request: request as unknown as Record<string, unknown>,
      callbackUrl: submission.callback_url ?? null,
      totalRows: 0,
      accepted: 0,
      rejected: 0,
      createdAt: now,
    });
    await enqueueJobs(
      tx,
      [
        {
          kind: fileIngestionJob,
          accountId: account.id,
          payload: { jobId, accountId: account.id },
          dedupeKey: `${fileIngestionJob}:${jobId}`,
          maxAttempts: 10,
        },
      ],
      now,
    );
  });
  deps.onQueued?.();
  return jobId;
}

/** Refuses file URLs that point inside the network unless the operator allowed the host. */
async function assertFetchableUrl(
  fileUrl: string,
  deps: FileJobDependencies,
  accountId: string,
): Promise<void> {
  const { allow } = deps;
  const url = new URL(fileUrl);
  if (url.protocol === "s3:") {
    const refusal = deps.credentials
      ? await deps.credentials.refusal({ accountId, integrationId: null }, fileUrl)
      : "s3:// file URLs need S3 credentials configured for the account, which this cqa does not have; " +
        "use a pre-signed https:// URL instead";
    if (refusal) throw new AppError("VALIDATION_ERROR", `file_url: ${refusal}`);
    return;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (allow.allowsHost(host)) return;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (error) {
    throw new AppError(
      "VALIDATION_ERROR",
      `file_url host '${host}' cannot be resolved: ${describeError(error)}`,
    );
  }
  const blocked = addresses.find((address) => isPrivateAddress(address) && !allow.allowsAddress(address));
  if (blocked) {
    throw new AppError(
      "VALIDATION_ERROR",
      `file_url points to a private or local address (${blocked}); such addresses are refused unless the operator ` +
        "allows them with CQA_FETCH_ALLOW",
    );
  }
}

export interface FileIngestionDependencies extends FileJobDependencies {
  blobs: BlobStore;
  /** Rows ingested per transaction (and per checkpoint). */
  chunkRows?: number;
  timeoutMs?: number;
}

/**
 * Downloads the file once into the blob store, then ingests its rows in chunks through the canonical
 * path. Each chunk commits with the job's checkpoint, so a restarted job resumes after the last
 * committed row: nothing is lost and nothing ingested twice.
 */
export async function runFileIngestion(deps: FileIngestionDependencies, jobId: string): Promise<void> {
  const job = await deps.db.transaction(async (tx) => {
    const locked = await lockIngestJob(tx, jobId);
    if (!locked || locked.status === "completed" || locked.status === "failed") return null;
    await updateIngestJob(tx, jobId, { status: "processing", startedAt: deps.clock.now() }, deps.clock.now());
    return locked;
  });
  if (!job) return;
  const account = await getAccount(deps.db, job.accountId);
  if (!account) return;
  const limits = resolveLimits(account.limits);
  const request = job.request as unknown as FileJobRequest;
  const key = `files/${job.accountId}/${job.id}/source.${request.format}`;
  if (!(await deps.blobs.exists(key)))
    await downloadFile(deps, job.accountId, request.file_url, key, limits.fileMaxBytes);

  const chunkRows = deps.chunkRows ?? 500;
  let chunk: FileRowOutcome[] = [];
  let lastRow = job.rowsCheckpoint;
  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    await ingestChunk(deps, account, job, rows);
    lastRow = rows.at(-1)!.row;
  };
  try {
    const stream = await deps.blobs.getStream(key);
    for await (const outcome of readFileRows(stream, {
      format: request.format,
      ...(request.column_mapping ? { columnMapping: request.column_mapping } : {}),
      defaults: request.defaults,
      maxRows: limits.fileMaxRows,
      startAfterRow: job.rowsCheckpoint,
    })) {
      chunk.push(outcome);
      if (chunk.length >= chunkRows) await flush();
    }
    await flush();
  } catch (error) {
    if (error instanceof AppError && !error.retryable && error.code !== "STORAGE_ERROR") {
      await finishFileJob(deps, job.id, { failed: describeError(error) });
      return;
    }
    throw error;
  }
  await finishFileJob(deps, job.id, { lastRow });
}

async function downloadFile(
  deps: FileIngestionDependencies,
  accountId: string,
  url: string,
  key: string,
  maxBytes: number,
): Promise<void> {
  const timeoutMs = deps.timeoutMs ?? 300_000;
  // s3:// URLs: the account's S3 integration opens them (and refuses them clearly when there is none).
  const credentialed =
    url.startsWith("s3:") && deps.credentials
      ? await deps.credentials.open({ accountId, integrationId: null }, url, { timeoutMs, maxBytes })
      : null;
  const response = credentialed ?? (await safeFetchStream(url, { allow: deps.allow, timeoutMs, maxBytes }));
  if (response.status < 200 || response.status > 299) {
    response.body.resume();
    const retryable = response.status === 429 || response.status >= 500;
    throw new AppError("FETCH_FAILED", `The file could not be fetched: ${url} answered ${response.status}`, {
      retryable,
    });
  }
  try {
    await deps.blobs.put(key, response.body, { maxBytes });
  } catch (error) {
    if (error instanceof AppError && error.code === "MEDIA_INVALID") {
      throw new AppError(
        "VALIDATION_ERROR",
        `The file is larger than ${maxBytes} bytes, the most a file job accepts`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

async function ingestChunk(
  deps: FileIngestionDependencies,
  account: AccountRecord,
  job: IngestJobRecord,
  rows: FileRowOutcome[],
): Promise<void> {
  const parsed = rows.filter((r): r is Extract<FileRowOutcome, { kind: "row" }> => r.kind === "row");
  const unreadable: JobError[] = rows
    .filter((r): r is Extract<FileRowOutcome, { kind: "error" }> => r.kind === "error")
    .map((r) => ({ line: r.line, externalInteractionId: r.externalInteractionId, reason: r.reason }));
  const lastRow = rows.at(-1)!.row;
  await ingestInteractions(
    { db: deps.db, clock: deps.clock, ...(deps.onQueued ? { onQueued: deps.onQueued } : {}) },
    {
      account,
      items: parsed.map((r) => r.item),
      batchId: job.id,
      // As published: rows of a file get no INTERACTION_INGESTED callback; the job reports instead.
      announce: false,
      inTransaction: async (tx, results) => {
        const rejected: JobError[] = [...unreadable];
        for (const result of results) {
          if (result.status === "accepted") continue;
          const row = parsed[result.index]!;
          rejected.push({
            line: row.line,
            externalInteractionId: result.externalInteractionId,
            reason:
              result.status === "duplicate"
                ? "Duplicate: interaction with this external_interaction_id already exists"
                : result.reason,
          });
        }
        await addIngestJobErrors(tx, job.id, rejected);
        await updateIngestJob(
          tx,
          job.id,
          {
            acceptedDelta: results.filter((r) => r.status === "accepted").length,
            rejectedDelta: rejected.length,
            rowsCheckpoint: lastRow,
          },
          deps.clock.now(),
        );
      },
    },
  );
}

/** Completes (or fails) the job and tells its callback, in one transaction. */
export async function finishFileJob(
  deps: { db: Database; clock: Clock },
  jobId: string,
  outcome: { lastRow?: number; failed?: string },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const job = await lockIngestJob(tx, jobId);
    if (!job || job.status === "completed" || job.status === "failed") return;
    const now = deps.clock.now();
    const failed = outcome.failed !== undefined;
    await updateIngestJob(
      tx,
      jobId,
      {
        status: failed ? "failed" : "completed",
        totalRows: job.accepted + job.rejected,
        completedAt: now,
        ...(failed ? { errorMessage: outcome.failed ?? null } : {}),
      },
      now,
    );
    const account = await getAccount(tx, job.accountId);
    if (!job.callbackUrl || !account?.webhooksEnabled) return;
    const errors = await listIngestJobErrors(tx, jobId, 100);
    await addToOutbox(
      tx,
      [
        webhookMessage({
          id: newId(),
          dedupeKey: `FILE_INGESTION_COMPLETED:${jobId}`,
          url: job.callbackUrl,
          envelope: {
            event: "FILE_INGESTION_COMPLETED",
            timestamp: now,
            accountId: job.accountId,
            data: {
              fileJobId: jobId,
              status: failed ? "FAILED" : "FILE_INGESTION_COMPLETED",
              totalRows: job.accepted + job.rejected,
              accepted: job.accepted,
              rejected: job.rejected,
              completedAt: now.toISOString(),
              errors: errors.map((e) => ({ row: e.line, reason: e.reason })),
              ...(failed ? { errorMessage: outcome.failed } : {}),
            },
          },
        }),
      ],
      now,
    );
  });
}
