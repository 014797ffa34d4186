import type { Queryable } from "../db.ts";

/** One object a file-based source took in (an S3 object), at the version (ETag) it had then. */
export interface SourceObjectMark {
  key: string;
  version: string;
  /** ingested, duplicate, reprocessed, rejected, manifest… */
  outcome: string;
}

/** The versions recorded for these keys of an integration (key → version). */
export async function sourceObjectVersions(
  q: Queryable,
  integrationId: string,
  keys: readonly string[],
): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const result = await q.query<{ object_key: string; version: string }>(
      "SELECT object_key, version FROM source_objects WHERE integration_id = $1 AND object_key = ANY($2::text[])",
      [integrationId, chunk],
    );
    for (const row of result.rows) versions.set(row.object_key, row.version);
  }
  return versions;
}

/** Records objects as taken in, replacing what was recorded for the same keys. */
export async function recordSourceObjects(
  q: Queryable,
  integrationId: string,
  marks: readonly SourceObjectMark[],
  at: Date,
): Promise<void> {
  if (marks.length === 0) return;
  await q.query(
    `INSERT INTO source_objects (integration_id, object_key, version, outcome, processed_at)
     SELECT $1, o.key, o.version, o.outcome, $3
     FROM jsonb_to_recordset($2::jsonb) AS o(key text, version text, outcome text)
     ON CONFLICT (integration_id, object_key) DO UPDATE
       SET version = EXCLUDED.version, outcome = EXCLUDED.outcome, processed_at = EXCLUDED.processed_at`,
    [integrationId, JSON.stringify(marks), at],
  );
}
