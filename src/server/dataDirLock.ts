import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../core/errors.ts";

/**
 * The embedded database must have exactly one process. A lock file with our pid guards the data
 * directory; a lock left by a process that no longer runs (killed) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "cqa.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new AppError(
          "CONFIG_INVALID",
          `Another cqa process (pid ${holder}) is using the data directory ${dataDir}. The embedded database ` +
            "allows one process: stop it, use another CQA_DATA_DIR, or set DATABASE_URL to share a PostgreSQL.",
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new AppError("CONFIG_INVALID", `Could not lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
