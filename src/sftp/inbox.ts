import { PassThrough, type Readable } from "node:stream";
import type { Clock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import {
  InboxPathError,
  isInside,
  isTemporaryName,
  nameOf,
  parentOf,
  resolveInboxPath,
} from "../core/inboxPaths.ts";
import type { BlobStore, StoredBlob } from "../storage/blob/blobStore.ts";
import type { Database } from "../storage/db.ts";
import {
  countInboxFolder,
  deleteInboxEntry,
  getInboxEntry,
  type InboxEntry,
  insertInboxEntry,
  listInboxFolder,
  moveInboxEntry,
  replaceInboxFile,
} from "../storage/repositories/sftpFiles.ts";

/** How an inbox operation failed, in SFTP terms (the server maps each to a status code). */
export type InboxFailure = "no_such_file" | "permission_denied" | "failure" | "unsupported";

/** A refused or failed inbox operation, with a message for the person at the SFTP client. */
export class InboxError extends Error {
  readonly failure: InboxFailure;
  constructor(failure: InboxFailure, message: string) {
    super(message);
    this.name = "InboxError";
    this.failure = failure;
  }
}

/** A file that just became complete under a name that is not temporary: a report to pick up. */
export interface ReadyFile {
  accountId: string;
  path: string;
  entryId: string;
}

export interface InboxDependencies {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  /** Called after the commit that made a file complete under its final name. */
  onFileReady?: (file: ReadyFile) => void;
}

/** What a listing or a stat shows of an entry. */
export interface InboxStat {
  path: string;
  name: string;
  isDir: boolean;
  size: number;
  modifiedAt: Date;
}

const rootStat = (at: Date): InboxStat => ({ path: "/", name: "/", isDir: true, size: 0, modifiedAt: at });

function statOf(entry: InboxEntry): InboxStat {
  return {
    path: entry.path,
    name: entry.name,
    isDir: entry.isDir,
    size: entry.size,
    modifiedAt: entry.modifiedAt,
  };
}

/** Resolves a client's path; a path that leaves the inbox or is not a plain name is permission denied. */
export function jailPath(input: string): string {
  try {
    return resolveInboxPath(input);
  } catch (error) {
    if (error instanceof InboxPathError) throw new InboxError("permission_denied", error.message);
    throw error;
  }
}

/**
 * One account's inbox as a small file system, jailed to it: every operation names the account, and
 * every path is resolved inside the inbox first. Folders are rows; files are blobs that appear only
 * once their upload completed.
 */
export class Inbox {
  readonly accountId: string;
  readonly #deps: InboxDependencies;
  readonly #userId: string | null;

  constructor(deps: InboxDependencies, accountId: string, userId: string | null = null) {
    this.#deps = deps;
    this.accountId = accountId;
    this.#userId = userId;
  }

  async stat(input: string): Promise<InboxStat> {
    const path = jailPath(input);
    if (path === "/") return rootStat(this.#deps.clock.now());
    const entry = await getInboxEntry(this.#deps.db, this.accountId, path);
    if (!entry) throw new InboxError("no_such_file", `No such file or folder: ${path}`);
    return statOf(entry);
  }

  async list(input: string): Promise<InboxStat[]> {
    const path = jailPath(input);
    await this.#requireFolder(path);
    return (await listInboxFolder(this.#deps.db, this.accountId, path)).map(statOf);
  }

  async mkdir(input: string): Promise<void> {
    const path = jailPath(input);
    if (path === "/") throw new InboxError("failure", "The inbox root exists already");
    await this.#requireFolder(parentOf(path));
    const now = this.#deps.clock.now();
    const created = await this.#deps.db.transaction(async (tx) => {
      if (await getInboxEntry(tx, this.accountId, path)) return false;
      await insertInboxEntry(tx, {
        id: newId(),
        accountId: this.accountId,
        path,
        parent: parentOf(path),
        name: nameOf(path),
        isDir: true,
        blobKey: null,
        size: 0,
        sha256: null,
        uploadedBy: this.#userId,
        createdAt: now,
        modifiedAt: now,
      });
      return true;
    });
    if (!created) throw new InboxError("failure", `${path} exists already`);
  }

  async remove(input: string): Promise<void> {
    const path = jailPath(input);
    const removed = await this.#deps.db.transaction(async (tx) => {
      const entry = await getInboxEntry(tx, this.accountId, path);
      if (!entry) throw new InboxError("no_such_file", `No such file: ${path}`);
      if (entry.isDir) throw new InboxError("failure", `${path} is a folder; remove it with rmdir`);
      return deleteInboxEntry(tx, this.accountId, path);
    });
    if (removed?.blobKey) await this.#deps.blobs.delete(removed.blobKey).catch(() => {});
  }

  async rmdir(input: string): Promise<void> {
    const path = jailPath(input);
    if (path === "/") throw new InboxError("permission_denied", "The inbox root cannot be removed");
    await this.#deps.db.transaction(async (tx) => {
      const entry = await getInboxEntry(tx, this.accountId, path);
      if (!entry) throw new InboxError("no_such_file", `No such folder: ${path}`);
      if (!entry.isDir) throw new InboxError("failure", `${path} is a file; remove it with rm`);
      if ((await countInboxFolder(tx, this.accountId, path)) > 0) {
        throw new InboxError("failure", `${path} is not empty`);
      }
      await deleteInboxEntry(tx, this.accountId, path);
    });
  }

  /** Renames a file or folder; the target must not exist (SFTP v3 semantics). */
  async rename(fromInput: string, toInput: string): Promise<void> {
    const from = jailPath(fromInput);
    const to = jailPath(toInput);
    if (from === "/" || to === "/")
      throw new InboxError("permission_denied", "The inbox root cannot be renamed");
    const moved = await this.#deps.db.transaction(async (tx) => {
      const entry = await getInboxEntry(tx, this.accountId, from);
      if (!entry) throw new InboxError("no_such_file", `No such file or folder: ${from}`);
      if (from === to) return null;
      if (entry.isDir && isInside(to, from)) {
        throw new InboxError("failure", `A folder cannot be moved into itself (${from} → ${to})`);
      }
      const parent = parentOf(to);
      if (parent !== "/") {
        const folder = await getInboxEntry(tx, this.accountId, parent);
        if (!folder?.isDir) throw new InboxError("no_such_file", `No such folder: ${parent}`);
      }
      if (await getInboxEntry(tx, this.accountId, to))
        throw new InboxError("failure", `${to} exists already`);
      await moveInboxEntry(
        tx,
        this.accountId,
        from,
        { path: to, parent, name: nameOf(to) },
        this.#deps.clock.now(),
      );
      return entry;
    });
    if (moved && !moved.isDir && isTemporaryName(moved.name) && !isTemporaryName(nameOf(to))) {
      this.#deps.onFileReady?.({ accountId: this.accountId, path: to, entryId: moved.id });
    }
  }

  /**
   * Starts an upload to `input`. The bytes stream into the blob store; the file appears in the inbox
   * only when {@link Upload.complete} runs (the client closed it). `maxBytes` bounds the file.
   */
  async openUpload(input: string, options: { exclusive: boolean; maxBytes: number }): Promise<Upload> {
    const path = jailPath(input);
    if (path === "/") throw new InboxError("failure", "The inbox root is a folder");
    await this.#requireFolder(parentOf(path));
    const existing = await getInboxEntry(this.#deps.db, this.accountId, path);
    if (existing?.isDir) throw new InboxError("failure", `${path} is a folder`);
    if (existing && options.exclusive) throw new InboxError("failure", `${path} exists already`);
    return new Upload(this.#deps, this.accountId, this.#userId, path, options.maxBytes);
  }

  /** Opens a complete file for reading. */
  async openDownload(input: string): Promise<Download> {
    const path = jailPath(input);
    const entry = path === "/" ? null : await getInboxEntry(this.#deps.db, this.accountId, path);
    if (!entry) throw new InboxError("no_such_file", `No such file: ${path}`);
    if (entry.isDir || !entry.blobKey) throw new InboxError("failure", `${path} is a folder`);
    return new Download(this.#deps.blobs, entry);
  }

  async #requireFolder(path: string): Promise<void> {
    if (path === "/") return;
    const entry = await getInboxEntry(this.#deps.db, this.accountId, path);
    if (!entry) throw new InboxError("no_such_file", `No such folder: ${path}`);
    if (!entry.isDir) throw new InboxError("failure", `${path} is a file, not a folder`);
  }
}

/**
 * A file being uploaded: writes must come in order (as every SFTP client sends a whole file); the
 * bytes stream into a blob under a fresh key, so an interrupted upload leaves nothing behind in the
 * inbox and a re-upload starts clean.
 */
export class Upload {
  readonly path: string;
  readonly #deps: InboxDependencies;
  readonly #accountId: string;
  readonly #userId: string | null;
  readonly #maxBytes: number;
  readonly #stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  readonly #stored: Promise<StoredBlob>;
  readonly #blobKey: string;
  #written = 0;
  #failure: Error | null = null;
  #finished = false;

  constructor(
    deps: InboxDependencies,
    accountId: string,
    userId: string | null,
    path: string,
    maxBytes: number,
  ) {
    this.#deps = deps;
    this.#accountId = accountId;
    this.#userId = userId;
    this.path = path;
    this.#maxBytes = maxBytes;
    this.#blobKey = `sftp/${accountId}/${newId()}`;
    this.#stored = deps.blobs.put(this.#blobKey, this.#stream, { maxBytes });
    this.#stored.catch((error: unknown) => {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
    });
  }

  /** Bytes received so far. */
  get size(): number {
    return this.#written;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (this.#failure) throw this.#refusal();
    if (offset !== this.#written) {
      throw new InboxError(
        "unsupported",
        `This server takes whole files written from start to end (a write at byte ${offset} came after ${this.#written} bytes); upload the file again without resuming`,
      );
    }
    if (this.#written + data.length > this.#maxBytes) {
      this.#failure = new InboxError(
        "failure",
        `The file is larger than the limit of ${this.#maxBytes} bytes for this user`,
      );
      this.#stream.destroy(this.#failure);
      throw this.#failure;
    }
    this.#written += data.length;
    if (!this.#stream.write(data)) {
      // Wait for the blob store to take what it has; a failed store stops the wait too.
      await Promise.race([
        new Promise<void>((resolve) => this.#stream.once("drain", resolve)),
        this.#stored.then(
          () => {},
          () => {},
        ),
      ]);
      if (this.#failure) throw this.#refusal();
    }
  }

  /** The client closed the file: store it and make it visible under its name. */
  async complete(): Promise<ReadyFile | null> {
    if (this.#finished) return null;
    this.#finished = true;
    if (this.#failure) throw this.#refusal();
    this.#stream.end();
    let stored: StoredBlob;
    try {
      stored = await this.#stored;
    } catch {
      throw this.#refusal();
    }
    const now = this.#deps.clock.now();
    const id = newId();
    const outcome = await this.#deps.db.transaction(async (tx) => {
      const parent = parentOf(this.path);
      if (parent !== "/") {
        const folder = await getInboxEntry(tx, this.#accountId, parent);
        if (!folder?.isDir) return { gone: true as const };
      }
      return replaceInboxFile(tx, {
        id,
        accountId: this.#accountId,
        path: this.path,
        parent,
        name: nameOf(this.path),
        isDir: false,
        blobKey: stored.key,
        size: stored.size,
        sha256: stored.sha256,
        uploadedBy: this.#userId,
        createdAt: now,
        modifiedAt: now,
      });
    });
    if ("gone" in outcome || "isFolder" in outcome) {
      await this.#deps.blobs.delete(stored.key).catch(() => {});
      throw new InboxError(
        "failure",
        `${this.path} could not be stored: its folder was removed or renamed meanwhile`,
      );
    }
    if (outcome.replacedBlobKey) await this.#deps.blobs.delete(outcome.replacedBlobKey).catch(() => {});
    const ready = { accountId: this.#accountId, path: this.path, entryId: id };
    if (!isTemporaryName(nameOf(this.path))) this.#deps.onFileReady?.(ready);
    return ready;
  }

  /** The session ended before the client closed the file: keep nothing of it. */
  abort(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#failure ??= new Error("The upload was interrupted");
    this.#stream.destroy(this.#failure);
    void this.#stored.then(
      (stored) => this.#deps.blobs.delete(stored.key).catch(() => {}),
      () => {},
    );
  }

  #refusal(): InboxError {
    const failure = this.#failure;
    if (failure instanceof InboxError) return failure;
    return new InboxError("failure", `The file could not be stored: ${failure?.message ?? "unknown error"}`);
  }
}

/** A complete file being read: sequential reads stream it; a read elsewhere starts a new stream. */
export class Download {
  readonly entry: InboxEntry;
  readonly #blobs: BlobStore;
  #reader: AsyncIterator<Buffer> | null = null;
  #source: Readable | null = null;
  #position = 0;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(blobs: BlobStore, entry: InboxEntry) {
    this.#blobs = blobs;
    this.entry = entry;
  }

  /** Up to `length` bytes from `offset`; null at the end of the file. */
  async read(offset: number, length: number): Promise<Buffer | null> {
    if (offset >= this.entry.size) return null;
    if (this.#reader === null || offset !== this.#position) await this.#seek(offset);
    while (this.#buffered.length < length) {
      const next = await this.#reader!.next();
      if (next.done) break;
      this.#buffered = this.#buffered.length === 0 ? next.value : Buffer.concat([this.#buffered, next.value]);
    }
    if (this.#buffered.length === 0) return null;
    const chunk = this.#buffered.subarray(0, length);
    this.#buffered = this.#buffered.subarray(chunk.length);
    this.#position += chunk.length;
    return chunk;
  }

  close(): void {
    this.#source?.destroy();
    this.#source = null;
    this.#reader = null;
  }

  async #seek(offset: number): Promise<void> {
    this.close();
    this.#source = await this.#blobs.getStream(this.entry.blobKey!);
    this.#reader = (this.#source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.#buffered = Buffer.alloc(0);
    this.#position = 0;
    let skip = offset;
    while (skip > 0) {
      const next = await this.#reader.next();
      if (next.done) break;
      if (next.value.length <= skip) {
        skip -= next.value.length;
        this.#position += next.value.length;
      } else {
        this.#buffered = next.value.subarray(skip);
        this.#position += skip;
        skip = 0;
      }
    }
  }
}
