import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../core/errors.ts";
import { assertBlobKey, type BlobStore, type StoredBlob } from "./blobStore.ts";

/** Blobs as files under one directory; writes go to a temporary file renamed into place. */
export function createFsBlobStore(root: string): BlobStore {
  const pathOf = (key: string): string => {
    assertBlobKey(key);
    return join(root, key);
  };

  return {
    kind: "filesystem",
    async put(key, data, options = {}) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.${randomBytes(6).toString("hex")}.partial`;
      const hash = createHash("sha256");
      let size = 0;
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > maxBytes) {
            callback(new AppError("MEDIA_INVALID", `The file is larger than the limit of ${maxBytes} bytes`));
            return;
          }
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
      try {
        await pipeline(source, meter, createWriteStream(temp));
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const stored: StoredBlob = { key, size, sha256: hash.digest("hex") };
      return stored;
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        throw notFound(key, error);
      }
    },
    async getStream(key) {
      const path = pathOf(key);
      try {
        await stat(path);
      } catch (error) {
        throw notFound(key, error);
      }
      return createReadStream(path);
    },
    async exists(key) {
      try {
        await stat(pathOf(key));
        return true;
      } catch {
        return false;
      }
    },
    async size(key) {
      try {
        return (await stat(pathOf(key))).size;
      } catch (error) {
        throw notFound(key, error);
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

function notFound(key: string, cause: unknown): AppError {
  return new AppError("NOT_FOUND", `Stored file '${key}' does not exist`, { cause });
}
