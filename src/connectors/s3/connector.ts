import { Readable } from "node:stream";
import { AppError, describeError } from "../../core/errors.ts";
import { type FileRowOutcome, readFileRows } from "../../ingest/fileRows.ts";
import type { IngestItemResult } from "../../ingest/ingestInteractions.ts";
import { reprocessForNewContent } from "../../ingest/reprocessInteraction.ts";
import { parseS3Url } from "../../net/credentialedFetch.ts";
import type { Queryable } from "../../storage/db.ts";
import { recordSourceObjects, type SourceObjectMark } from "../../storage/repositories/sourceObjects.ts";
import type {
  ConnectionCheck,
  ConnectorDefinition,
  RunContext,
  SourceItem,
  UnreadableRecord,
} from "../connector.ts";
import { describeS3Failure, type ListedObject, S3Bucket } from "./client.ts";
import { type S3Checkpoint, type S3Config, s3CheckpointSchema, s3ConfigSchema } from "./config.ts";
import { classifyObjects, hasOwnContent, type ObjectPair, pairItem, resolveManifestUrls } from "./mapping.ts";

const maxSidecarBytes = 1024 * 1024;
const maxManifestBytes = 100 * 1024 * 1024;
const maxManifestRows = 100_000;
/** Conversations per ingest transaction (and sidecars read at once). */
const pairBatch = 200;
const parallelReads = 16;
const manifestChunkRows = 500;

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the answers. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const answers = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        answers[index] = await work(items[index]!);
      }
    }),
  );
  return answers;
}

/** The S3 failure as a run error: retried later unless it is the configuration's fault. */
function runFailure(error: unknown, bucket: string): AppError {
  if (error instanceof AppError) return error;
  const failure = describeS3Failure(error, bucket);
  const retryable = failure.kind === "network" || failure.kind === "other";
  return new AppError("FETCH_FAILED", failure.message, { retryable, cause: error });
}

const sourceRefOf = (bucket: string, pair: Pick<ObjectPair, "sidecar" | "audio">) => {
  const main = pair.sidecar ?? pair.audio!;
  const recording = pair.sidecar && pair.audio ? ` (recording ${pair.audio.key})` : "";
  return `s3://${bucket}/${main.key}${recording}`;
};

/**
 * S3 (or an S3-compatible server), both ways: picks up recordings with a JSON sidecar and manifests in
 * the Standard API file format from an input prefix, and writes each result to the output prefix.
 */
export const s3Connector: ConnectorDefinition<S3Config, S3Checkpoint> = {
  kind: "s3",
  version: 1,
  title: "S3 bucket — both ways",
  summary:
    "Picks up recordings with a JSON sidecar, and CSV / NDJSON manifests, from a bucket prefix; writes each analysis result to <output prefix>/<external_interaction_id>.json. Its credentials also open the account's s3:// URLs.",
  mode: "poll",
  configSchema: s3ConfigSchema,
  secretFields: ["secret_access_key", "session_token"],
  checkpointSchema: s3CheckpointSchema,
  defaultSchedule: { type: "interval", every_seconds: 300 },
  supportsRange: false,
  create(context) {
    const { config } = context;
    const where = `s3://${config.bucket}/${config.input_prefix}`;
    let client: S3Bucket | null = null;
    const s3 = () => {
      client ??= new S3Bucket(config, context.allow);
      return client;
    };
    let pending = 0;

    const test = async (): Promise<ConnectionCheck[]> => {
      const checks: ConnectionCheck[] = [];
      try {
        for await (const _page of s3().list(config.input_prefix)) break;
        checks.push({
          name: "reach",
          ok: true,
          message: `${config.endpoint ?? `S3 (${config.region})`} answers`,
        });
        checks.push({ name: "auth", ok: true, message: "The access key and secret are accepted" });
        checks.push({ name: "read", ok: true, message: `Objects under ${where} can be listed` });
      } catch (error) {
        const failure = describeS3Failure(error, config.bucket);
        if (failure.kind === "network") {
          checks.push({ name: "reach", ok: false, message: failure.message });
          return checks;
        }
        checks.push({
          name: "reach",
          ok: true,
          message: `${config.endpoint ?? `S3 (${config.region})`} answers`,
        });
        if (failure.kind === "auth") {
          checks.push({ name: "auth", ok: false, message: failure.message });
          return checks;
        }
        checks.push({ name: "auth", ok: true, message: "The access key and secret are accepted" });
        checks.push({
          name: failure.kind === "no_bucket" ? "bucket" : "read",
          ok: false,
          message: failure.message,
        });
        return checks;
      }
      try {
        await s3().write(
          `${config.output_prefix}.cqa-connection-test`,
          "written by cqa's test connection\n",
          "text/plain",
        );
        checks.push({
          name: "write",
          ok: true,
          message: `Results can be written to s3://${config.bucket}/${config.output_prefix}`,
        });
      } catch (error) {
        checks.push({
          name: "write",
          ok: false,
          message: `Results cannot be written to s3://${config.bucket}/${config.output_prefix}: ${describeS3Failure(error, config.bucket).message}`,
        });
      }
      return checks;
    };

    /** Records the objects of each result's conversation; an overwritten one is analysed again. */
    const recordOutcomes = async (
      tx: Queryable,
      results: readonly IngestItemResult[],
      units: readonly { objects: readonly ListedObject[]; seenBefore: boolean }[],
      extra: readonly SourceObjectMark[],
    ) => {
      const now = context.clock.now();
      const marks: SourceObjectMark[] = [...extra];
      for (const result of results) {
        const unit = units[result.index]!;
        let outcome: string = result.status === "accepted" ? "ingested" : result.status;
        if (result.status === "duplicate" && unit.seenBefore) {
          // The same conversation with new content (a re-uploaded recording or sidecar).
          await reprocessForNewContent(tx, result.interactionId, now);
          outcome = "reprocessed";
        }
        for (const object of unit.objects) marks.push({ key: object.key, version: object.etag, outcome });
      }
      await recordSourceObjects(tx, context.integration.id, marks, now);
    };

    const takePairs = async (
      run: RunContext,
      pairs: readonly ObjectPair[],
      versions: Map<string, string>,
    ) => {
      for (let i = 0; i < pairs.length; i += pairBatch) {
        if (run.signal.aborted) return;
        const batch = pairs.slice(i, i + pairBatch);
        const sidecars = await mapLimited(batch, parallelReads, async (pair) => {
          if (!pair.sidecar) return null;
          try {
            return (await s3().read(pair.sidecar.key, maxSidecarBytes)).toString("utf8");
          } catch (error) {
            if (error instanceof AppError) return error;
            if (describeS3Failure(error, config.bucket).kind === "not_found") return null;
            throw runFailure(error, config.bucket);
          }
        });
        const items: SourceItem[] = [];
        const units: { objects: ListedObject[]; seenBefore: boolean }[] = [];
        const unreadable: UnreadableRecord[] = [];
        const rejectedMarks: SourceObjectMark[] = [];
        batch.forEach((pair, index) => {
          const objects = [pair.sidecar, pair.audio].filter((o): o is ListedObject => o !== null);
          const sourceRef = sourceRefOf(config.bucket, pair);
          const text = sidecars[index] ?? null;
          const reject = (raw: string, code: string, reason: string) => {
            unreadable.push({ sourceRef, raw: raw.slice(0, 100_000), code, reason });
            for (const object of objects)
              rejectedMarks.push({ key: object.key, version: object.etag, outcome: "rejected" });
          };
          if (text instanceof AppError) {
            reject(
              "",
              "VALIDATION_ERROR",
              `The sidecar ${pair.sidecar!.key} cannot be taken: ${text.message}`,
            );
            return;
          }
          let sidecar: Record<string, unknown> = {};
          if (pair.sidecar) {
            if (text === null) return; // deleted since the listing
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch (error) {
              reject(
                text,
                "INVALID_JSON",
                `The sidecar ${pair.sidecar.key} is not valid JSON: ${describeError(error)}`,
              );
              return;
            }
            if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
              reject(
                text,
                "VALIDATION_ERROR",
                `The sidecar ${pair.sidecar.key} must be one JSON object (a Standard API interaction)`,
              );
              return;
            }
            sidecar = parsed as Record<string, unknown>;
            // The recording may still be uploading: wait for it unless the sidecar names its content.
            if (!pair.audio && !hasOwnContent(sidecar)) return;
          }
          const item = pairItem(sidecar, pair, config);
          items.push({ sourceRef, item, raw: text ?? JSON.stringify(item) });
          units.push({ objects, seenBefore: objects.some((o) => versions.has(o.key)) });
        });
        if (items.length === 0 && unreadable.length === 0) continue;
        await context.ingest(items, {
          runId: run.runId,
          unreadable,
          inTransaction: (tx, results) => recordOutcomes(tx, results, units, rejectedMarks),
        });
      }
    };

    const takeManifest = async (
      run: RunContext,
      manifest: ListedObject & { format: "csv" | "ndjson" },
      checkpoint: S3Checkpoint,
    ) => {
      const resumeAfter =
        checkpoint.manifest?.key === manifest.key && checkpoint.manifest.etag === manifest.etag
          ? checkpoint.manifest.after_row
          : 0;
      const mark = (outcome: string): SourceObjectMark => ({
        key: manifest.key,
        version: manifest.etag,
        outcome,
      });
      const fileRef = `s3://${config.bucket}/${manifest.key}`;
      let body: Buffer;
      try {
        body = await s3().read(manifest.key, maxManifestBytes);
      } catch (error) {
        if (error instanceof AppError && !error.retryable) {
          await context.ingest([], {
            runId: run.runId,
            unreadable: [{ sourceRef: fileRef, raw: "", code: "VALIDATION_ERROR", reason: error.message }],
            inTransaction: (tx) =>
              recordSourceObjects(tx, context.integration.id, [mark("rejected")], context.clock.now()),
          });
          return;
        }
        throw runFailure(error, config.bucket);
      }
      let chunk: FileRowOutcome[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        const rows = chunk;
        chunk = [];
        const items: SourceItem[] = [];
        const unreadable: UnreadableRecord[] = [];
        for (const row of rows) {
          const sourceRef = `${fileRef} row ${row.row} (line ${row.line})`;
          if (row.kind === "error") {
            unreadable.push({ sourceRef, raw: "", code: "VALIDATION_ERROR", reason: row.reason });
          } else {
            const item = resolveManifestUrls(row.item, manifest.key, config.bucket);
            items.push({ sourceRef, item, raw: JSON.stringify(item) });
          }
        }
        await context.ingest(items, {
          runId: run.runId,
          unreadable,
          checkpoint: { manifest: { key: manifest.key, etag: manifest.etag, after_row: rows.at(-1)!.row } },
        });
      };
      try {
        for await (const row of readFileRows(Readable.from([body]), {
          format: manifest.format,
          defaults: { source: config.source },
          maxRows: maxManifestRows,
          startAfterRow: resumeAfter,
        })) {
          chunk.push(row);
          if (chunk.length >= manifestChunkRows) await flush();
          if (run.signal.aborted) return;
        }
        await flush();
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== "VALIDATION_ERROR") throw error;
        // The file as a whole cannot be read (no external_interaction_id column, too many rows…).
        await context.ingest([], {
          runId: run.runId,
          checkpoint: { manifest: null },
          unreadable: [
            {
              sourceRef: fileRef,
              raw: "",
              code: "VALIDATION_ERROR",
              reason: `The manifest ${manifest.key}: ${error.message}`,
            },
          ],
          inTransaction: (tx) =>
            recordSourceObjects(tx, context.integration.id, [mark("rejected")], context.clock.now()),
        });
        return;
      }
      await context.ingest([], {
        checkpoint: { manifest: null },
        inTransaction: (tx) =>
          recordSourceObjects(tx, context.integration.id, [mark("manifest")], context.clock.now()),
      });
    };

    const run = async (runContext: RunContext): Promise<void> => {
      const stored = s3CheckpointSchema.safeParse(await context.readCheckpoint());
      const checkpoint: S3Checkpoint = stored.success ? stored.data : { manifest: null };
      const listed: ListedObject[] = [];
      try {
        for await (const page of s3().list(config.input_prefix, runContext.signal)) listed.push(...page);
      } catch (error) {
        throw runFailure(error, config.bucket);
      }
      const { pairs, manifests } = classifyObjects(listed, config);
      const versions = await context.processedObjects(listed.map((o) => o.key));
      const changed = (o: ListedObject | null) => o !== null && versions.get(o.key) !== o.etag;
      const pairsToTake = pairs.filter((p) =>
        p.sidecar
          ? changed(p.sidecar) || changed(p.audio)
          : config.audio_without_sidecar === "ingest" && changed(p.audio),
      );
      // A manifest a run was in the middle of comes first.
      const manifestsToTake = manifests
        .filter((m) => changed(m))
        .sort(
          (a, b) => Number(b.key === checkpoint.manifest?.key) - Number(a.key === checkpoint.manifest?.key),
        );
      const budget = config.max_objects_per_run;
      const pairsNow = pairsToTake.slice(0, budget);
      const manifestsNow = manifestsToTake.slice(0, Math.max(0, budget - pairsNow.length));
      pending = pairsToTake.length + manifestsToTake.length - pairsNow.length - manifestsNow.length;
      await takePairs(runContext, pairsNow, versions);
      for (const manifest of manifestsNow) {
        if (runContext.signal.aborted) return;
        await takeManifest(runContext, manifest, checkpoint);
      }
      await context.reportHealth({ lag: { pending_objects: pending } });
    };

    return {
      test,
      run,
      async lag() {
        return { pending_objects: pending };
      },
      async itemFromDeadLetter(payload, sourceRef) {
        const match = /^s3:\/\/[^/]+\/(.+?)(?: \(recording (.+)\))?(?: row \d+ \(line \d+\))?$/.exec(
          sourceRef,
        );
        const parsed = JSON.parse(payload) as unknown;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw new Error("The record must be one JSON object (a Standard API interaction)");
        }
        if (/ row \d+ \(line \d+\)$/.test(sourceRef)) return parsed;
        const key = match?.[1] ?? "";
        const base = key.replace(/\.[^./]+$/, "");
        const audioKey = match?.[2];
        return pairItem(
          parsed as Record<string, unknown>,
          { base, audio: audioKey ? { key: audioKey, etag: "", size: 0 } : null },
          config,
        );
      },
      async openMedia(url) {
        const parsed = parseS3Url(url);
        if (!parsed || parsed.bucket !== config.bucket) return null;
        return s3().open(parsed.key);
      },
      async deliverResults(results) {
        // One document per conversation, written under its external id: a re-delivery overwrites it.
        const latest = new Map<string, string>();
        for (const result of results) {
          if (result.externalInteractionId && result.interactionId)
            latest.set(result.externalInteractionId, result.interactionId);
        }
        await mapLimited([...latest], 8, async ([externalId, interactionId]) => {
          const document = await context.resultDocument(interactionId);
          if (!document) return;
          try {
            await s3().write(
              `${config.output_prefix}${externalId}.json`,
              `${JSON.stringify(document, null, 2)}\n`,
              "application/json",
            );
          } catch (error) {
            throw new AppError(
              "DELIVERY_FAILED",
              `Writing the result of ${externalId} to s3://${config.bucket}/${config.output_prefix} failed: ${describeS3Failure(error, config.bucket).message}`,
              { retryable: true, cause: error },
            );
          }
        });
      },
      async stop() {
        client?.close();
        client = null;
      },
    };
  },
};
