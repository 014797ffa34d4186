// Types for the parts of ssh2-sftp-client the tests use (the package ships none).
declare module "ssh2-sftp-client" {
  import type { ConnectConfig } from "ssh2";

  interface FileInfo {
    type: "d" | "-" | "l";
    name: string;
    size: number;
    modifyTime: number;
  }

  class SftpClient {
    constructor(name?: string);
    connect(options: ConnectConfig): Promise<unknown>;
    put(
      input: string | Buffer | NodeJS.ReadableStream,
      remotePath: string,
      options?: unknown,
    ): Promise<string>;
    fastPut(localPath: string, remotePath: string, options?: unknown): Promise<string>;
    get(path: string, dst?: string | NodeJS.WritableStream): Promise<string | NodeJS.WritableStream | Buffer>;
    list(path: string): Promise<FileInfo[]>;
    exists(path: string): Promise<false | "d" | "-" | "l">;
    mkdir(path: string, recursive?: boolean): Promise<string>;
    rmdir(path: string, recursive?: boolean): Promise<string>;
    delete(path: string): Promise<string>;
    rename(from: string, to: string): Promise<string>;
    stat(path: string): Promise<{ size: number; isDirectory: boolean; isFile: boolean }>;
    realPath(path: string): Promise<string>;
    symlink(target: string, path: string): Promise<string>;
    end(): Promise<boolean>;
  }
  export default SftpClient;
}
