// A child process for the PGlite durability test: opens the embedded database in the data
// directory given (taking the data-dir lock, as `cqa serve` does) and commits, forever, one account
// with ten interactions per transaction, printing each account id once its commit returned.
// The test kills it with SIGKILL and checks that everything printed is still there.
import { lockDataDir } from "../../src/server/dataDirLock.ts";
import { migrate } from "../../src/storage/migrate.ts";
import { openPglite } from "../../src/storage/pglite.ts";
import { insertInteractions } from "../../src/storage/repositories/interactions.ts";
import { newInteraction, seedAccount } from "../../src/storage/testFixtures.ts";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: pgliteCommitter.ts <data dir>");
lockDataDir(dataDir);
const db = await openPglite(`${dataDir}/db`);
await migrate(db);
process.stdout.write("ready\n");
for (;;) {
  const accountId = await db.transaction(async (tx) => {
    const account = await seedAccount(tx);
    await insertInteractions(
      tx,
      Array.from({ length: 10 }, () => newInteraction(account.id)),
    );
    return account.id;
  });
  process.stdout.write(`committed ${accountId}\n`);
}
