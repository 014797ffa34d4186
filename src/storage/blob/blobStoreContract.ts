// The contract every blob store keeps (filesystem, S3): its tests run in blobStore.test.ts on the
// filesystem and in test/storage/s3BlobStore.test.ts on a real S3 server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import type { BlobStore } from "./blobStore.ts";

/** The contract every blob store must keep; an S3 store runs the same suite. */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`blob store contract: ${name}`, () => {
    test("stores bytes and streams and reads them back with size and hash", async () => {
      const store = await open();
      const stored = await store.put("recordings/a/b/audio-0", Buffer.from("RIFF....WAVE"));
      assert.equal(stored.size, 12);
      assert.match(stored.sha256, /^[0-9a-f]{64}$/);
      assert.equal((await store.get("recordings/a/b/audio-0")).toString(), "RIFF....WAVE");
      const chunks: Buffer[] = [];
      for await (const chunk of await store.getStream("recordings/a/b/audio-0")) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), "RIFF....WAVE");
      assert.equal(await store.size("recordings/a/b/audio-0"), 12);
    });

    test("overwrites an existing key whole", async () => {
      const store = await open();
      await store.put("x/y", Buffer.from("first version"));
      await store.put("x/y", Readable.from([Buffer.from("second")]));
      assert.equal((await store.get("x/y")).toString(), "second");
    });

    test("refuses keys that would escape the store", async () => {
      const store = await open();
      for (const key of ["../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b"]) {
        await assert.rejects(store.put(key, Buffer.from("x")), /Invalid blob key/, key);
      }
    });

    test("a missing key is NOT_FOUND; delete is idempotent", async () => {
      const store = await open();
      await assert.rejects(store.get("nope/1"), { code: "NOT_FOUND" });
      assert.equal(await store.exists("nope/1"), false);
      await store.delete("nope/1");
    });

    test("a write over the size limit fails and leaves nothing behind", async () => {
      const store = await open();
      await assert.rejects(
        store.put("big/1", Buffer.alloc(2048), { maxBytes: 1024 }),
        /larger than the limit/,
      );
      assert.equal(await store.exists("big/1"), false);
    });

    test("a large streamed recording (20 MiB, in pieces) is stored whole; over the limit nothing is left", async () => {
      const store = await open();
      const piece = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < piece.length; i++) piece[i] = (i * 7) % 251;
      const pieces = () => Readable.from(Array.from({ length: 20 }, () => piece));
      const stored = await store.put("large/1", pieces());
      assert.equal(stored.size, 20 * 1024 * 1024);
      const expected = createHash("sha256");
      for (let i = 0; i < 20; i++) expected.update(piece);
      assert.equal(stored.sha256, expected.digest("hex"));
      const read = createHash("sha256");
      for await (const chunk of await store.getStream("large/1")) read.update(chunk as Buffer);
      assert.equal(read.digest("hex"), stored.sha256, "read back byte for byte");
      await assert.rejects(
        store.put("large/2", pieces(), { maxBytes: 10 * 1024 * 1024 }),
        /larger than the limit/,
      );
      assert.equal(await store.exists("large/2"), false);
    });
  });
}
