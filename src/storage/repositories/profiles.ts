import type { ProfileDefinition } from "../../core/qualityProfile.ts";
import type { Queryable } from "../db.ts";

/** A quality profile with the definition of one of its versions. */
export interface ProfileRecord {
  id: string;
  accountId: string;
  name: string;
  version: number;
  currentVersion: number;
  definition: ProfileDefinition;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  versionCreatedAt: Date;
  versionCreatedBy: string | null;
}

interface ProfileRow {
  id: string;
  account_id: string;
  name: string;
  version: number;
  current_version: number;
  definition: ProfileDefinition;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version_created_at: Date;
  version_created_by: string | null;
}

const select = `SELECT p.id, p.account_id, p.name, v.version, p.current_version, v.definition, p.archived_at,
  p.created_at, p.updated_at, v.created_at AS version_created_at, v.created_by AS version_created_by
  FROM quality_profiles p JOIN quality_profile_versions v ON v.profile_id = p.id`;

function toRecord(row: ProfileRow): ProfileRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    version: row.version,
    currentVersion: row.current_version,
    definition: row.definition,
    archivedAt: row.archived_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    versionCreatedAt: row.version_created_at,
    versionCreatedBy: row.version_created_by,
  };
}

export interface NewProfile {
  id: string;
  accountId: string;
  definition: ProfileDefinition;
  createdBy: string | null;
  at: Date;
}

/** Creates a profile at version 1. */
export async function insertProfile(q: Queryable, profile: NewProfile): Promise<void> {
  await q.query(
    `INSERT INTO quality_profiles (id, account_id, name, current_version, created_at, updated_at)
     VALUES ($1, $2, $3, 1, $4, $4)`,
    [profile.id, profile.accountId, profile.definition.name, profile.at],
  );
  await q.query(
    `INSERT INTO quality_profile_versions (profile_id, version, definition, created_by, created_at)
     VALUES ($1, 1, $2, $3, $4)`,
    [profile.id, JSON.stringify(profile.definition), profile.createdBy, profile.at],
  );
}

/** Saves an edit as a new version; analyses already made keep the version they used. */
export async function addProfileVersion(
  q: Queryable,
  accountId: string,
  id: string,
  definition: ProfileDefinition,
  createdBy: string | null,
  at: Date,
): Promise<number | null> {
  const bumped = await q.query<{ current_version: number }>(
    `UPDATE quality_profiles SET current_version = current_version + 1, name = $3, updated_at = $4
     WHERE account_id = $1 AND id = $2 RETURNING current_version`,
    [accountId, id, definition.name, at],
  );
  const version = bumped.rows[0]?.current_version;
  if (version === undefined) return null;
  await q.query(
    `INSERT INTO quality_profile_versions (profile_id, version, definition, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [id, version, JSON.stringify(definition), createdBy, at],
  );
  return version;
}

/** The profile at its current version, or at `version` when given. */
export async function getProfile(
  q: Queryable,
  accountId: string,
  id: string,
  version?: number,
): Promise<ProfileRecord | null> {
  const result = await q.query<ProfileRow>(
    `${select} WHERE p.account_id = $1 AND p.id = $2 AND v.version = COALESCE($3, p.current_version)`,
    [accountId, id, version ?? null],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/** Profiles at their current versions (archived ones only when asked). */
export async function listProfiles(
  q: Queryable,
  accountId: string,
  options: { includeArchived?: boolean } = {},
): Promise<ProfileRecord[]> {
  const result = await q.query<ProfileRow>(
    `${select} WHERE p.account_id = $1 AND v.version = p.current_version
       AND ($2::boolean OR p.archived_at IS NULL)
     ORDER BY p.created_at, p.id`,
    [accountId, options.includeArchived ?? false],
  );
  return result.rows.map(toRecord);
}

export async function listProfileVersions(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<{ version: number; createdAt: Date; createdBy: string | null; name: string }[]> {
  const result = await q.query<{
    version: number;
    created_at: Date;
    created_by: string | null;
    name: string;
  }>(
    `SELECT v.version, v.created_at, v.created_by, v.definition->>'name' AS name
     FROM quality_profile_versions v JOIN quality_profiles p ON p.id = v.profile_id
     WHERE p.account_id = $1 AND p.id = $2 ORDER BY v.version`,
    [accountId, id],
  );
  return result.rows.map((r) => ({
    version: r.version,
    createdAt: r.created_at,
    createdBy: r.created_by,
    name: r.name,
  }));
}

export async function setProfileArchived(
  q: Queryable,
  accountId: string,
  id: string,
  archivedAt: Date | null,
  at: Date,
): Promise<boolean> {
  const result = await q.query(
    "UPDATE quality_profiles SET archived_at = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
    [accountId, id, archivedAt, at],
  );
  return result.rowCount > 0;
}

/** Of `ids`, those that are live profiles of the account. */
export async function existingProfileIds(
  q: Queryable,
  accountId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await q.query<{ id: string }>(
    "SELECT id FROM quality_profiles WHERE account_id = $1 AND id = ANY($2::uuid[]) AND archived_at IS NULL",
    [accountId, ids],
  );
  return new Set(result.rows.map((r) => r.id));
}
