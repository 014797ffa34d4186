import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { blobStoreContract } from "./blobStoreContract.ts";
import { createFsBlobStore } from "./fsBlobStore.ts";

blobStoreContract("filesystem", async () => createFsBlobStore(mkdtempSync(join(tmpdir(), "cqa-blobs-"))));

test("the filesystem store leaves no partial files after a failed write", async () => {
  const root = mkdtempSync(join(tmpdir(), "cqa-blobs-"));
  const store = createFsBlobStore(root);
  await assert.rejects(store.put("p/q", Buffer.alloc(10), { maxBytes: 5 }));
  assert.deepEqual(readdirSync(join(root, "p")), []);
});
