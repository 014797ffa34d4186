// The reference SFTP server of the ECC4x upload figure: the same library as cqa's endpoint (ssh2), the
// same host key type and ciphers, one password, and only what an upload needs — each file written
// straight to a folder at the offsets the client sends. No database, no blob store, no jail: what
// this machine can push through ssh2's SFTP with the OpenSSH client, in the benchmark's own process.
import { type FileHandle, open, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import ssh2, { type Attributes } from "ssh2";
import { sftpCiphers } from "../src/sftp/server.ts";
import { loadOrCreateHostKey } from "../src/sftp/sshKeys.ts";

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

export interface BareSftpServer {
  port: number;
  /** `ssh-ed25519 AAAA…`, for known_hosts. */
  hostPublicKey: string;
  close(): Promise<void>;
}

const folderAttributes: Attributes = { mode: 0o040755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };

/** Serves `folder` (its files only, by base name) to `username` / `password` on 127.0.0.1. */
export async function startBareSftpServer(options: {
  folder: string;
  keyDir: string;
  username: string;
  password: string;
}): Promise<BareSftpServer> {
  const hostKey = loadOrCreateHostKey(options.keyDir);
  const server = new Server(
    { hostKeys: [hostKey.privateKey], algorithms: { cipher: sftpCiphers as never } },
    (client) => {
      client.on("error", () => {});
      client.on("authentication", (context) => {
        const ok =
          context.method === "password" &&
          context.username === options.username &&
          context.password === options.password;
        if (ok) context.accept();
        else context.reject(["password"]);
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          acceptSession().on("sftp", (acceptSftp) => {
            const sftp = acceptSftp();
            const files = new Map<number, FileHandle>();
            let next = 1;
            const pathOf = (name: string) => join(options.folder, basename(name));
            const idOf = (handle: Buffer) => handle.readUInt32BE(0);
            const failed = (reqId: number) => () => sftp.status(reqId, STATUS_CODE.FAILURE);
            sftp.on("end", () => sftp.end());
            sftp.on("REALPATH", (reqId) =>
              sftp.name(reqId, [{ filename: "/", longname: "/", attrs: folderAttributes }]),
            );
            const stats = (reqId: number, path: string) => {
              if (basename(path) === "" || path === "/" || path === ".") {
                sftp.attrs(reqId, folderAttributes);
                return;
              }
              stat(pathOf(path)).then(
                (s) => sftp.attrs(reqId, { mode: s.mode, uid: 0, gid: 0, size: s.size, atime: 0, mtime: 0 }),
                () => sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE),
              );
            };
            sftp.on("STAT", stats);
            sftp.on("LSTAT", stats);
            sftp.on("OPEN", (reqId, filename, flags) => {
              if ((flags & OPEN_MODE.WRITE) === 0) return sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED);
              open(pathOf(filename), "w").then((file) => {
                const id = next++;
                files.set(id, file);
                const handle = Buffer.alloc(4);
                handle.writeUInt32BE(id, 0);
                sftp.handle(reqId, handle);
              }, failed(reqId));
            });
            sftp.on("WRITE", (reqId, handle, offset, data) => {
              const file = files.get(idOf(handle));
              if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
              file
                .write(data, 0, data.length, offset)
                .then(() => sftp.status(reqId, STATUS_CODE.OK), failed(reqId));
            });
            sftp.on("FSETSTAT", (reqId) => sftp.status(reqId, STATUS_CODE.OK));
            sftp.on("SETSTAT", (reqId) => sftp.status(reqId, STATUS_CODE.OK));
            sftp.on("CLOSE", (reqId, handle) => {
              const file = files.get(idOf(handle));
              files.delete(idOf(handle));
              if (!file) return sftp.status(reqId, STATUS_CODE.OK);
              file.close().then(() => sftp.status(reqId, STATUS_CODE.OK), failed(reqId));
            });
            sftp.on("close", () => {
              for (const file of files.values()) void file.close().catch(() => {});
            });
          });
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hostPublicKey: hostKey.publicKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
