import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isAppError } from "../core/errors.ts";
import { lockDataDir } from "../server/dataDirLock.ts";
import { openPglite } from "./pglite.ts";

const committer = fileURLToPath(new URL("../../test/support/pgliteCommitter.ts", import.meta.url));

/** Starts the committer and resolves once it has printed `commits` committed account ids. */
function runCommitter(dataDir: string, commits: number): { child: ChildProcess; reached: Promise<string[]> } {
  const child = spawn(process.execPath, [committer, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const reached = new Promise<string[]>((resolve, reject) => {
    const ids: string[] = [];
    let pending = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("committed ")) ids.push(line.slice("committed ".length));
      }
      if (ids.length >= commits) resolve(ids);
    });
    child.once("exit", (code, signal) => {
      reject(new Error(`the committer exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
  return { child, reached };
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("the embedded database survives kill -9", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-pglite-kill-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("every transaction committed before the kill is there after restart, and none is half there", async () => {
    const printed: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const { child, reached } = runCommitter(dataDir, 40);
      const ids = await reached;
      // While it runs, the data directory is its alone.
      assert.throws(
        () => lockDataDir(dataDir),
        (error: unknown) => isAppError(error) && /Another cqa process \(pid \d+\)/.test(error.message),
      );
      await killHard(child);
      printed.push(...ids);
      // The second round restarts on the same directory: the stale lock is taken over.
    }

    const unlock = lockDataDir(dataDir);
    try {
      assert.equal(
        readFileSync(join(dataDir, "cqa.lock"), "utf8"),
        String(process.pid),
        "the stale lock was taken over",
      );
      const db = await openPglite(join(dataDir, "db"));
      try {
        const counts = await db.query<{ account_id: string; n: number }>(
          "SELECT account_id, count(*)::int AS n FROM interactions GROUP BY account_id",
        );
        const perAccount = new Map(counts.rows.map((r) => [r.account_id, r.n]));
        const missing = printed.filter((id) => perAccount.get(id) !== 10);
        assert.deepEqual(
          missing,
          [],
          "accounts whose commit was acknowledged but whose rows are not all there",
        );
        const accounts = await db.query<{ id: string }>("SELECT id FROM accounts");
        const partial = accounts.rows.filter((a) => perAccount.get(a.id) !== 10);
        assert.deepEqual(partial, [], "an account stored without all ten of its interactions");
      } finally {
        await db.close();
      }
    } finally {
      unlock();
    }
  });
});
