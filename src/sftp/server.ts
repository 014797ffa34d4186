import type { AddressInfo } from "node:net";
import ssh2, { type Attributes, type AuthContext, type Connection, type SFTPWrapper } from "ssh2";
import type { Clock } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import { hashPassword, verifyPassword } from "../security/passwords.ts";
import { generateToken } from "../security/tokens.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { Database } from "../storage/db.ts";
import {
  findSftpUserByName,
  type SftpUserRecord,
  touchSftpLogin,
} from "../storage/repositories/sftpUsers.ts";
import {
  type Download,
  Inbox,
  InboxError,
  type InboxStat,
  jailPath,
  type ReadyFile,
  type Upload,
} from "./inbox.ts";
import { type HostKey, publicKeyAccepted } from "./sshKeys.ts";

// ssh2 is CommonJS: its named exports come through the default export.
const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Problems worth an operator's attention; normal operation logs nothing. */
export interface SftpLog {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SftpEndpointOptions {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  hostKey: HostKey;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  log: SftpLog;
  /** A file became complete under its final name (closed, or renamed from a temporary name). */
  onFileReady?: (file: ReadyFile) => void;
}

/** Failed logins tolerated on one connection before it is closed (as OpenSSH's MaxAuthTries). */
const maxAuthFailures = 6;
/** Open files and folders one SFTP session may hold. */
const maxHandles = 64;
/**
 * Ciphers Node's crypto runs natively: OpenSSH prefers chacha20-poly1305, which ssh2 would run in
 * JavaScript (slowly) without its optional native module.
 */
export const sftpCiphers = [
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
];

type Handle =
  | { kind: "upload"; upload: Upload; queue: Promise<void> }
  | { kind: "download"; download: Download; queue: Promise<void> }
  | { kind: "folder"; entries: InboxStat[] | null };

/**
 * The SFTP endpoint of cqa: per-account users (password and/or public key) jailed to their account's
 * inbox. Only the SFTP subsystem is served — no shell, exec, forwarding or links.
 */
export class SftpEndpoint {
  readonly #options: SftpEndpointOptions;
  readonly #server: InstanceType<typeof Server>;
  readonly #connections = new Set<Connection>();
  #decoy: Promise<string> | null = null;
  #port = 0;

  constructor(options: SftpEndpointOptions) {
    this.#options = options;
    this.#server = new Server(
      {
        hostKeys: [options.hostKey.privateKey],
        algorithms: { cipher: sftpCiphers as never },
        ident: "cqa",
        keepaliveInterval: 30_000,
        keepaliveCountMax: 4,
      },
      (client) => this.#accept(client),
    );
    this.#server.maxConnections = 500;
  }

  /** The port it listens on (after start). */
  get port(): number {
    return this.#port;
  }

  get hostKeyFingerprint(): string {
    return this.#options.hostKey.fingerprint;
  }

  /** `ssh-ed25519 AAAA…`, as a known_hosts line needs it. */
  get hostPublicKey(): string {
    return this.#options.hostKey.publicKey;
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once("error", onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off("error", onError);
        this.#server.on("error", (error: Error) =>
          this.#options.log.error("sftp endpoint error", { error: describeError(error) }),
        );
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve(this.#port);
      });
    });
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) connection.end();
    await closed;
  }

  #accept(client: Connection): void {
    this.#connections.add(client);
    let user: SftpUserRecord | null = null;
    let failures = 0;
    const sessions = new Set<() => void>();
    client.on("error", () => {
      // A client that drops or speaks nonsense ends its own connection; nothing to report.
    });
    client.on("close", () => {
      this.#connections.delete(client);
      for (const end of sessions) end();
    });
    client.on("authentication", (context: AuthContext) => {
      this.#authenticate(context).then(
        (outcome) => {
          if (outcome.kind === "user") {
            user = outcome.user;
            context.accept();
            void touchSftpLogin(this.#options.db, outcome.user.id, this.#options.clock.now()).catch(() => {});
          } else if (outcome.kind === "key_acceptable") {
            // "Would this key do?" — yes; the login itself comes next, signed with it.
            context.accept();
          } else if (outcome.kind === "key_unknown") {
            // The client asked whether a key would do; it would not. Not a failed login by itself.
            context.reject(["password", "publickey"]);
          } else {
            failures++;
            context.reject(["password", "publickey"]);
            if (failures >= maxAuthFailures) client.end();
          }
        },
        (error: unknown) => {
          this.#options.log.error("sftp login check failed", { error: describeError(error) });
          context.reject();
        },
      );
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("sftp", (acceptSftp) => {
          const sftp = acceptSftp();
          const inbox = new Inbox(
            {
              db: this.#options.db,
              blobs: this.#options.blobs,
              clock: this.#options.clock,
              ...(this.#options.onFileReady ? { onFileReady: this.#options.onFileReady } : {}),
            },
            user!.accountId,
            user!.id,
          );
          const end = serveSftp(sftp, inbox, user!, this.#options.log);
          sessions.add(end);
          // The client is done (EOF): close the channel, which ends its `sftp` program.
          sftp.on("end", () => sftp.end());
          sftp.on("close", () => {
            sessions.delete(end);
            end();
          });
        });
      });
    });
  }

  /** What a login attempt proves: a user, an acceptable key (not yet signed), or nothing. */
  async #authenticate(context: AuthContext): Promise<LoginOutcome> {
    if (context.method !== "password" && context.method !== "publickey") return { kind: "denied" };
    const found = await findSftpUserByName(this.#options.db, context.username);
    const usable = found && !found.disabledAt ? found : null;
    if (context.method === "password") {
      // Unknown users are checked against a decoy hash, so timing does not tell which names exist.
      const stored = usable?.passwordHash ?? (await this.#decoyHash());
      const matches = await verifyPassword(context.password, stored);
      return usable?.passwordHash && matches ? { kind: "user", user: usable } : { kind: "denied" };
    }
    const signed = context.signature
      ? { blob: context.blob!, signature: context.signature, hashAlgo: context.hashAlgo }
      : null;
    if (!usable || !publicKeyAccepted(usable.publicKeys, context.key, signed)) {
      return signed ? { kind: "denied" } : { kind: "key_unknown" };
    }
    return signed ? { kind: "user", user: usable } : { kind: "key_acceptable" };
  }

  #decoyHash(): Promise<string> {
    this.#decoy ??= hashPassword(generateToken());
    return this.#decoy;
  }
}

type LoginOutcome =
  | { kind: "user"; user: SftpUserRecord }
  | { kind: "key_acceptable" }
  | { kind: "key_unknown" }
  | { kind: "denied" };

/** Serves one SFTP session on `inbox`; answers a function that ends it (aborting open uploads). */
function serveSftp(sftp: SFTPWrapper, inbox: Inbox, user: SftpUserRecord, log: SftpLog): () => void {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  let ended = false;

  const handleId = (buffer: Buffer): number | null => (buffer.length === 4 ? buffer.readUInt32BE(0) : null);
  const newHandle = (handle: Handle): Buffer | null => {
    if (handles.size >= maxHandles) return null;
    const id = nextHandle++;
    handles.set(id, handle);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(id, 0);
    return buffer;
  };
  const fail = (reqId: number, error: unknown) => {
    if (ended) return;
    if (error instanceof InboxError) {
      const code =
        error.failure === "no_such_file"
          ? STATUS_CODE.NO_SUCH_FILE
          : error.failure === "permission_denied"
            ? STATUS_CODE.PERMISSION_DENIED
            : error.failure === "unsupported"
              ? STATUS_CODE.OP_UNSUPPORTED
              : STATUS_CODE.FAILURE;
      sftp.status(reqId, code, error.message);
      return;
    }
    log.error("sftp request failed", { account_id: user.accountId, error: describeError(error) });
    sftp.status(reqId, STATUS_CODE.FAILURE, "cqa could not complete this request; try again");
  };
  const run = (reqId: number, work: () => Promise<void>) => {
    work().catch((error: unknown) => fail(reqId, error));
  };
  const ok = (reqId: number) => {
    if (!ended) sftp.status(reqId, STATUS_CODE.OK);
  };
  const noHandle = (reqId: number) => sftp.status(reqId, STATUS_CODE.FAILURE, "Unknown or closed handle");
  const enqueue = (handle: Extract<Handle, { queue: Promise<void> }>, work: () => Promise<void>) => {
    const next = handle.queue.then(work);
    handle.queue = next.catch(() => {});
    return next;
  };

  sftp.on("REALPATH", (reqId, path) =>
    run(reqId, async () => {
      const resolved = jailPath(path);
      sftp.name(reqId, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
    }),
  );
  const stat = (reqId: number, path: string) =>
    run(reqId, async () => {
      sftp.attrs(reqId, attributesOf(await inbox.stat(path)));
    });
  sftp.on("STAT", stat);
  sftp.on("LSTAT", stat);
  sftp.on("OPENDIR", (reqId, path) =>
    run(reqId, async () => {
      const entries = await inbox.list(path);
      const handle = newHandle({ kind: "folder", entries });
      if (!handle) throw new InboxError("failure", `Too many open files (at most ${maxHandles})`);
      sftp.handle(reqId, handle);
    }),
  );
  sftp.on("READDIR", (reqId, buffer) => {
    const handle = handles.get(handleId(buffer) ?? -1);
    if (handle?.kind !== "folder") return noHandle(reqId);
    if (handle.entries === null || handle.entries.length === 0) {
      handle.entries = null;
      return sftp.status(reqId, STATUS_CODE.EOF);
    }
    const batch = handle.entries.splice(0, 100);
    sftp.name(
      reqId,
      batch.map((entry) => ({ filename: entry.name, longname: longName(entry), attrs: attributesOf(entry) })),
    );
  });
  sftp.on("OPEN", (reqId, filename, flags) =>
    run(reqId, async () => {
      const reading = (flags & OPEN_MODE.READ) !== 0;
      const writing = (flags & OPEN_MODE.WRITE) !== 0;
      if (reading && writing) {
        throw new InboxError("unsupported", "Files open for reading or for writing, not both");
      }
      if (writing) {
        if ((flags & OPEN_MODE.APPEND) !== 0 || (flags & OPEN_MODE.TRUNC) === 0) {
          const exists = await inbox.stat(filename).then(
            () => true,
            () => false,
          );
          if (exists) {
            throw new InboxError(
              "unsupported",
              "Appending to or resuming a file is not supported; upload the whole file again (it replaces the old one)",
            );
          }
        }
        if ((flags & OPEN_MODE.CREAT) === 0) {
          await inbox.stat(filename);
        }
        const upload = await inbox.openUpload(filename, {
          exclusive: (flags & OPEN_MODE.EXCL) !== 0,
          maxBytes: user.maxFileBytes,
        });
        const handle = newHandle({ kind: "upload", upload, queue: Promise.resolve() });
        if (!handle) {
          upload.abort();
          throw new InboxError("failure", `Too many open files (at most ${maxHandles})`);
        }
        sftp.handle(reqId, handle);
        return;
      }
      const download = await inbox.openDownload(filename);
      const handle = newHandle({ kind: "download", download, queue: Promise.resolve() });
      if (!handle) {
        download.close();
        throw new InboxError("failure", `Too many open files (at most ${maxHandles})`);
      }
      sftp.handle(reqId, handle);
    }),
  );
  sftp.on("WRITE", (reqId, buffer, offset, data) => {
    const handle = handles.get(handleId(buffer) ?? -1);
    if (handle?.kind !== "upload") return noHandle(reqId);
    enqueue(handle, () => handle.upload.write(offset, data)).then(
      () => ok(reqId),
      (error: unknown) => fail(reqId, error),
    );
  });
  sftp.on("READ", (reqId, buffer, offset, length) => {
    const handle = handles.get(handleId(buffer) ?? -1);
    if (handle?.kind !== "download") return noHandle(reqId);
    enqueue(handle, async () => {
      const chunk = await handle.download.read(offset, Math.min(length, 256 * 1024));
      if (ended) return;
      if (chunk === null) sftp.status(reqId, STATUS_CODE.EOF);
      else sftp.data(reqId, chunk);
    }).catch((error: unknown) => fail(reqId, error));
  });
  sftp.on("FSTAT", (reqId, buffer) => {
    const handle = handles.get(handleId(buffer) ?? -1);
    if (!handle) return noHandle(reqId);
    const now = new Date();
    if (handle.kind === "upload") {
      return sftp.attrs(reqId, fileAttributes(handle.upload.size, now));
    }
    if (handle.kind === "download") {
      return sftp.attrs(reqId, fileAttributes(handle.download.entry.size, handle.download.entry.modifiedAt));
    }
    return sftp.attrs(reqId, folderAttributes(now));
  });
  // Times and permissions are not kept (clients set them after an upload with -p): accepted, ignored.
  sftp.on("SETSTAT", (reqId, path) =>
    run(reqId, async () => {
      await inbox.stat(path);
      ok(reqId);
    }),
  );
  sftp.on("FSETSTAT", (reqId, buffer) => (handles.has(handleId(buffer) ?? -1) ? ok(reqId) : noHandle(reqId)));
  sftp.on("CLOSE", (reqId, buffer) => {
    const id = handleId(buffer) ?? -1;
    const handle = handles.get(id);
    if (!handle) return noHandle(reqId);
    handles.delete(id);
    if (handle.kind === "folder") return ok(reqId);
    if (handle.kind === "download") {
      void handle.queue.then(() => handle.download.close());
      return ok(reqId);
    }
    enqueue(handle, async () => {
      await handle.upload.complete();
    }).then(
      () => ok(reqId),
      (error: unknown) => fail(reqId, error),
    );
  });
  sftp.on("REMOVE", (reqId, path) =>
    run(reqId, async () => {
      await inbox.remove(path);
      ok(reqId);
    }),
  );
  sftp.on("RMDIR", (reqId, path) =>
    run(reqId, async () => {
      await inbox.rmdir(path);
      ok(reqId);
    }),
  );
  sftp.on("MKDIR", (reqId, path) =>
    run(reqId, async () => {
      await inbox.mkdir(path);
      ok(reqId);
    }),
  );
  sftp.on("RENAME", (reqId, from, to) =>
    run(reqId, async () => {
      await inbox.rename(from, to);
      ok(reqId);
    }),
  );
  const noLinks = (reqId: number) =>
    sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, "Links are not supported in the inbox");
  sftp.on("READLINK", noLinks);
  sftp.on("SYMLINK", noLinks);
  sftp.on("EXTENDED", (reqId) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED));

  return () => {
    if (ended) return;
    ended = true;
    // Files the client never closed were not uploaded: nothing of them stays.
    for (const handle of handles.values()) {
      if (handle.kind === "upload") handle.upload.abort();
      else if (handle.kind === "download") handle.download.close();
    }
    handles.clear();
  };
}

function fileAttributes(size: number, modified: Date): Attributes {
  const seconds = Math.floor(modified.getTime() / 1000);
  return { mode: 0o100644, uid: 0, gid: 0, size, atime: seconds, mtime: seconds };
}

function folderAttributes(modified: Date): Attributes {
  const seconds = Math.floor(modified.getTime() / 1000);
  return { mode: 0o040755, uid: 0, gid: 0, size: 0, atime: seconds, mtime: seconds };
}

function attributesOf(entry: InboxStat): Attributes {
  return entry.isDir ? folderAttributes(entry.modifiedAt) : fileAttributes(entry.size, entry.modifiedAt);
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An `ls -l` line, which `ls -l` in the OpenSSH client prints as it is. */
function longName(entry: InboxStat): string {
  const d = entry.modifiedAt;
  const date = `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  const mode = entry.isDir ? "drwxr-xr-x" : "-rw-r--r--";
  return `${mode}    1 cqa      cqa      ${String(entry.size).padStart(12, " ")} ${date} ${entry.name}`;
}
