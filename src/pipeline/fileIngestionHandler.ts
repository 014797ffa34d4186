import { describeError } from "../core/errors.ts";
import {
  type FileIngestionDependencies,
  fileIngestionJob,
  finishFileJob,
  runFileIngestion,
} from "../ingest/fileIngestion.ts";
import type { JobHandler } from "./jobWorker.ts";

/** Runs submitted file jobs; a job that keeps failing ends as `failed` with the reason. */
export function fileIngestionHandler(deps: FileIngestionDependencies): JobHandler {
  return {
    kind: fileIngestionJob,
    run: (job) => runFileIngestion(deps, (job.payload as { jobId: string }).jobId),
    onGiveUp: (job, error) =>
      finishFileJob(deps, (job.payload as { jobId: string }).jobId, { failed: describeError(error) }),
  };
}
