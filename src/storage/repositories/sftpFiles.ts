import type { Queryable } from "../db.ts";

/**
 * A file or folder of an account's SFTP inbox. Folders and names live here; a file's bytes live in
 * the blob store under `blobKey`. A file row exists only once its upload completed.
 */
export interface InboxEntry {
  id: string;
  accountId: string;
  path: string;
  parent: string;
  name: string;
  isDir: boolean;
  blobKey: string | null;
  size: number;
  sha256: string | null;
  uploadedBy: string | null;
  createdAt: Date;
  modifiedAt: Date;
}

interface InboxRow {
  id: string;
  account_id: string;
  path: string;
  parent: string;
  name: string;
  is_dir: boolean;
  blob_key: string | null;
  size: string | number;
  sha256: string | null;
  uploaded_by: string | null;
  created_at: Date;
  modified_at: Date;
}

const columns =
  "id, account_id, path, parent, name, is_dir, blob_key, size, sha256, uploaded_by, created_at, modified_at";

function toEntry(row: InboxRow): InboxEntry {
  return {
    id: row.id,
    accountId: row.account_id,
    path: row.path,
    parent: row.parent,
    name: row.name,
    isDir: row.is_dir,
    blobKey: row.blob_key,
    size: Number(row.size),
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

export async function getInboxEntry(
  q: Queryable,
  accountId: string,
  path: string,
): Promise<InboxEntry | null> {
  const result = await q.query<InboxRow>(
    `SELECT ${columns} FROM sftp_files WHERE account_id = $1 AND path = $2`,
    [accountId, path],
  );
  return result.rows[0] ? toEntry(result.rows[0]) : null;
}

export async function getInboxEntryById(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<InboxEntry | null> {
  const result = await q.query<InboxRow>(
    `SELECT ${columns} FROM sftp_files WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  return result.rows[0] ? toEntry(result.rows[0]) : null;
}

/** The entries directly inside a folder, by name. */
export async function listInboxFolder(
  q: Queryable,
  accountId: string,
  folder: string,
): Promise<InboxEntry[]> {
  const result = await q.query<InboxRow>(
    `SELECT ${columns} FROM sftp_files WHERE account_id = $1 AND parent = $2 ORDER BY name`,
    [accountId, folder],
  );
  return result.rows.map(toEntry);
}

export async function countInboxFolder(q: Queryable, accountId: string, folder: string): Promise<number> {
  const result = await q.query<{ n: string | number }>(
    "SELECT count(*) AS n FROM sftp_files WHERE account_id = $1 AND parent = $2",
    [accountId, folder],
  );
  return Number(result.rows[0]?.n ?? 0);
}

export async function insertInboxEntry(q: Queryable, entry: InboxEntry): Promise<void> {
  await q.query(
    `INSERT INTO sftp_files (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      entry.id,
      entry.accountId,
      entry.path,
      entry.parent,
      entry.name,
      entry.isDir,
      entry.blobKey,
      entry.size,
      entry.sha256,
      entry.uploadedBy,
      entry.createdAt,
      entry.modifiedAt,
    ],
  );
}

/** Removes one entry; answers the removed row (its blob is the caller's to delete after commit). */
export async function deleteInboxEntry(
  q: Queryable,
  accountId: string,
  path: string,
): Promise<InboxEntry | null> {
  const result = await q.query<InboxRow>(
    `DELETE FROM sftp_files WHERE account_id = $1 AND path = $2 RETURNING ${columns}`,
    [accountId, path],
  );
  return result.rows[0] ? toEntry(result.rows[0]) : null;
}

/** Moves an entry — and, for a folder, everything inside it — to a new path. */
export async function moveInboxEntry(
  q: Queryable,
  accountId: string,
  from: string,
  to: { path: string; parent: string; name: string },
  at: Date,
): Promise<void> {
  await q.query(
    "UPDATE sftp_files SET path = $3, parent = $4, name = $5, modified_at = $6 WHERE account_id = $1 AND path = $2",
    [accountId, from, to.path, to.parent, to.name, at],
  );
  // Children of a moved folder: swap the prefix of their path and parent.
  const prefix = `${from}/`;
  await q.query(
    `UPDATE sftp_files
        SET path = $3 || substr(path, $4),
            parent = CASE WHEN parent = $2 THEN $3 ELSE $3 || substr(parent, $4) END
      WHERE account_id = $1 AND starts_with(path, $5)`,
    [accountId, from, to.path, from.length + 1, prefix],
  );
}

/**
 * Puts a completed file at `entry.path`, replacing a file already there (never a folder). Answers the
 * replaced file's blob key, which the caller deletes once the transaction committed.
 */
export async function replaceInboxFile(
  q: Queryable,
  entry: InboxEntry,
): Promise<{ replacedBlobKey: string | null } | { isFolder: true }> {
  const existing = await q.query<{ is_dir: boolean; blob_key: string | null }>(
    "SELECT is_dir, blob_key FROM sftp_files WHERE account_id = $1 AND path = $2 FOR UPDATE",
    [entry.accountId, entry.path],
  );
  const found = existing.rows[0];
  if (found?.is_dir) return { isFolder: true };
  if (found) await deleteInboxEntry(q, entry.accountId, entry.path);
  await insertInboxEntry(q, entry);
  return { replacedBlobKey: found?.blob_key ?? null };
}
