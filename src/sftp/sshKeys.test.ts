import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import ssh2 from "ssh2";
import { generateHostKey, loadOrCreateHostKey } from "./sshKeys.ts";

describe("SFTP host keys", () => {
  test("every generated host key can be read back (ssh2 makes about one unreadable key in 280)", () => {
    // Without the check in generateHostKey, 2,000 keys include an unreadable one 999 times in 1,000.
    for (let i = 0; i < 2_000; i++) {
      const parsed = ssh2.utils.parseKey(generateHostKey());
      assert.ok(!(parsed instanceof Error) && !Array.isArray(parsed), `key ${i} cannot be read`);
    }
  });

  test("the key is generated once and kept across restarts", () => {
    const dir = mkdtempSync(join(tmpdir(), "cqa-host-key-"));
    try {
      const first = loadOrCreateHostKey(dir);
      const again = loadOrCreateHostKey(dir);
      assert.equal(again.fingerprint, first.fingerprint);
      assert.match(first.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
