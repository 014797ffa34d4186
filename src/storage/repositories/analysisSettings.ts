import { type AnalysisSettings, defaultAnalysisSettings } from "../../core/analysisSettings.ts";
import type { Queryable } from "../db.ts";

/** The account's analysis settings, or the defaults when it never set any. */
export async function getAnalysisSettings(q: Queryable, accountId: string): Promise<AnalysisSettings> {
  const result = await q.query<{ settings: Partial<AnalysisSettings> }>(
    "SELECT settings FROM analysis_settings WHERE account_id = $1",
    [accountId],
  );
  const stored = result.rows[0]?.settings;
  return stored ? { ...defaultAnalysisSettings, ...stored } : defaultAnalysisSettings;
}

export async function saveAnalysisSettings(
  q: Queryable,
  accountId: string,
  settings: AnalysisSettings,
  at: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO analysis_settings (account_id, settings, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at`,
    [accountId, JSON.stringify(settings), at],
  );
}

/** Of `ids`, those that are integrations of the account. */
export async function existingIntegrationIds(
  q: Queryable,
  accountId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await q.query<{ id: string }>(
    "SELECT id FROM integrations WHERE account_id = $1 AND id = ANY($2::uuid[])",
    [accountId, ids],
  );
  return new Set(result.rows.map((r) => r.id));
}
