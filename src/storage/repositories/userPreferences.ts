import type { Queryable } from "../db.ts";

/** One stored preference of one user: a key and its JSON value (validated by the API before storing). */
export interface UserPreferenceRecord {
  accountId: string;
  userId: string;
  key: string;
  value: unknown;
  updatedAt: Date;
}

interface PreferenceRow {
  account_id: string;
  user_id: string;
  key: string;
  value: unknown;
  updated_at: Date;
}

const columns = "account_id, user_id, key, value, updated_at";

function toRecord(row: PreferenceRow): UserPreferenceRecord {
  return {
    accountId: row.account_id,
    userId: row.user_id,
    key: row.key,
    value: row.value,
    updatedAt: row.updated_at,
  };
}

/** Every preference a user has saved, by key. */
export async function listUserPreferences(
  q: Queryable,
  accountId: string,
  userId: string,
): Promise<UserPreferenceRecord[]> {
  const result = await q.query<PreferenceRow>(
    `SELECT ${columns} FROM user_preferences WHERE account_id = $1 AND user_id = $2 ORDER BY key`,
    [accountId, userId],
  );
  return result.rows.map(toRecord);
}

/** Saves a preference, replacing the user's previous value of that key. */
export async function putUserPreference(
  q: Queryable,
  preference: Omit<UserPreferenceRecord, "updatedAt">,
  now: Date,
): Promise<UserPreferenceRecord> {
  const result = await q.query<PreferenceRow>(
    `INSERT INTO user_preferences (account_id, user_id, key, value, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id, user_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
     RETURNING ${columns}`,
    [preference.accountId, preference.userId, preference.key, JSON.stringify(preference.value), now],
  );
  return toRecord(result.rows[0]!);
}

/** Forgets a preference (the user is back to the default); answers whether there was one. */
export async function deleteUserPreference(
  q: Queryable,
  accountId: string,
  userId: string,
  key: string,
): Promise<boolean> {
  const result = await q.query(
    "DELETE FROM user_preferences WHERE account_id = $1 AND user_id = $2 AND key = $3",
    [accountId, userId, key],
  );
  return result.rowCount > 0;
}
