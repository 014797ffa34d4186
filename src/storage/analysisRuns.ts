import { type Queryable, StatementParams } from "./db.ts";
import { completeJobSql, type JobLease } from "./jobQueue.ts";
import { type OutboxMessage, outboxInsertSql } from "./outbox.ts";
import { type AnalysisRunState, analysisRunStatesSql, settleAnalysesSql } from "./repositories/analyses.ts";
import { type InteractionStateChange, interactionStateSql } from "./repositories/interactions.ts";

/** What one step of an interaction's analysis writes. */
export interface AnalysisRunWrite {
  interactionId: string;
  /** The interaction's new state: status, routing, transcript… */
  interaction: InteractionStateChange;
  analyses: AnalysisRunState[];
  /**
   * The profiles this run scores: analyses of others that a reprocess queued are settled (see
   * {@link settleAnalysesSql}). Null leaves them as they are.
   */
  rerunProfileIds: string[] | null;
  events: OutboxMessage[];
  /** The job this write ends: removed with it, and nothing is written unless the worker still holds it. */
  lease: JobLease | null;
}

/**
 * Writes one step of an interaction's analysis — its analyses, the interaction's state, their events
 * for the outbox and the end of the job — as one statement: atomic like a transaction, in one round
 * trip. With a lease nothing is written once the worker has lost the job (another worker took it over
 * and does the work); returns whether it was written.
 */
export async function writeAnalysisRun(q: Queryable, write: AnalysisRunWrite, now: Date): Promise<boolean> {
  const params = new StatementParams();
  const parts: string[] = [];
  let when = "TRUE";
  if (write.lease) {
    parts.push(`held AS (${completeJobSql(write.lease.jobId, write.lease.workerId, params.bind)})`);
    when = "EXISTS (SELECT 1 FROM held)";
  }
  const writes = [
    analysisRunStatesSql(write.analyses, now, params.bind, when),
    write.rerunProfileIds === null
      ? null
      : settleAnalysesSql(write.interactionId, write.rerunProfileIds, now, params.bind, when),
    interactionStateSql(write.interactionId, write.interaction, now, params.bind, when),
    outboxInsertSql(write.events, now, params.bind, when),
  ];
  for (const [index, sql] of writes.entries()) if (sql) parts.push(`write_${index} AS (${sql})`);
  if (parts.length === 0) return true;
  // Data-modifying WITH parts all run, whatever the final SELECT reads.
  const result = await q.query<{ written: boolean }>(
    `WITH ${parts.join(",\n")}\nSELECT ${write.lease ? "EXISTS (SELECT 1 FROM held)" : "TRUE"} AS written`,
    params.values,
  );
  return result.rows[0]?.written ?? false;
}
