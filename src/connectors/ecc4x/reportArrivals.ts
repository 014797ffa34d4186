import { describeError } from "../../core/errors.ts";
import { nameOf, parentOf } from "../../core/inboxPaths.ts";
import { listIntegrations } from "../../storage/repositories/integrations.ts";
import { getInboxEntryById } from "../../storage/repositories/sftpFiles.ts";
import type { ConnectorEnvironment } from "../connectorContext.ts";
import { queueIntegrationRun } from "../supervisor.ts";
import { filePatternMatcher } from "./config.ts";

/** A file that became complete in an account's SFTP inbox. */
export interface ArrivedFile {
  accountId: string;
  path: string;
  entryId: string;
}

/** How often a report waits for a run already under way (which reads new reports before it ends). */
const busyRetryMs = 2_000;
const busyRetries = 90;

/**
 * Starts a run of every `ecc4x_sftp` integration that reads the folder a report just arrived in, so a
 * report is read as soon as its upload completes rather than at the next daily run. When a run is
 * already under way it is asked again a little later (that run usually takes the report itself).
 */
export class ReportArrivals {
  readonly #env: ConnectorEnvironment;
  readonly #onQueued: () => void;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(env: ConnectorEnvironment, onQueued: () => void) {
    this.#env = env;
    this.#onQueued = onQueued;
  }

  /** A file is complete under its final name. */
  notify(file: ArrivedFile): void {
    void this.#queue(file, 0);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #queue(file: ArrivedFile, attempt: number): Promise<void> {
    if (this.#stopped) return;
    try {
      const { db, clock } = this.#env;
      // Still there under the same name? (It may have been read, moved or removed meanwhile.)
      const entry = await getInboxEntryById(db, file.accountId, file.entryId);
      if (!entry || entry.parent !== parentOf(file.path)) return;
      const readers = (await listIntegrations(db, file.accountId)).filter((integration) => {
        if (integration.kind !== "ecc4x_sftp" || !integration.enabled || integration.paused) return false;
        const folder = typeof integration.config["folder"] === "string" ? integration.config["folder"] : "/";
        const pattern =
          typeof integration.config["file_pattern"] === "string"
            ? integration.config["file_pattern"]
            : "*.csv";
        return folder === entry.parent && filePatternMatcher(pattern)(nameOf(entry.path));
      });
      let busy = false;
      for (const integration of readers) {
        const queued = await db.transaction((tx) =>
          queueIntegrationRun(tx, integration, { trigger: "manual", from: null, to: null }, clock.now()),
        );
        if (queued) this.#onQueued();
        else busy = true;
      }
      if (busy && attempt < busyRetries && !this.#stopped) {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          void this.#queue(file, attempt + 1);
        }, busyRetryMs);
        timer.unref();
        this.#timers.add(timer);
      }
    } catch (error) {
      this.#env.log.error("could not start a run for an uploaded report", {
        account_id: file.accountId,
        path: file.path,
        error: describeError(error),
      });
    }
  }
}
