import type { AnalysisSettings } from "../core/analysisSettings.ts";
import type { Queryable } from "../storage/db.ts";
import { getAccount, getAccountConfigVersion } from "../storage/repositories/accounts.ts";
import { getAnalysisSettings } from "../storage/repositories/analysisSettings.ts";
import { listProfiles, type ProfileRecord } from "../storage/repositories/profiles.ts";
import { listRules, type RuleRecord } from "../storage/repositories/rules.ts";

/** What the pipeline reads about an account to route, listen and score. */
export interface AccountPipelineConfig {
  /** The account's configuration version this was read at (or a newer state: the version is read first). */
  version: number;
  /** Assignment rules in evaluation order. */
  rules: RuleRecord[];
  /** Live (not archived) profiles at their current versions, by id. */
  profiles: ReadonlyMap<string, ProfileRecord>;
  settings: AnalysisSettings;
  webhooksEnabled: boolean;
}

/**
 * Each account's pipeline configuration, kept in memory and read again only when the account's
 * configuration version has moved past the one kept (every change to the account, its rules, profiles
 * or analysis settings moves it: database triggers, migration 008). While nothing changes, an
 * interaction costs no configuration queries. Each worker process keeps its own; the version stored
 * with the account keeps them all current.
 */
export class AccountConfigCache {
  readonly #entries = new Map<string, AccountPipelineConfig>();
  readonly #loading = new Map<string, Promise<AccountPipelineConfig>>();
  readonly #capacity: number;

  /** `capacity`: accounts kept; the least recently used one is dropped beyond it. */
  constructor(capacity = 1_000) {
    this.#capacity = capacity;
  }

  /** The account's configuration at `version` (as seen with the work at hand) or newer. */
  async get(q: Queryable, accountId: string, version: number): Promise<AccountPipelineConfig> {
    const kept = this.#entries.get(accountId);
    if (kept && kept.version >= version) {
      // Most recently used last, so that the first entry is the one to drop.
      this.#entries.delete(accountId);
      this.#entries.set(accountId, kept);
      return kept;
    }
    // Jobs of one account started together after a change share one read.
    const pending = this.#loading.get(accountId);
    if (pending) {
      const loaded = await pending;
      if (loaded.version >= version) return loaded;
    }
    const loading = load(q, accountId).finally(() => {
      if (this.#loading.get(accountId) === loading) this.#loading.delete(accountId);
    });
    this.#loading.set(accountId, loading);
    const loaded = await loading;
    this.#remember(accountId, loaded);
    return loaded;
  }

  #remember(accountId: string, config: AccountPipelineConfig): void {
    const kept = this.#entries.get(accountId);
    if (kept && kept.version > config.version) return;
    this.#entries.delete(accountId);
    this.#entries.set(accountId, config);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}

async function load(q: Queryable, accountId: string): Promise<AccountPipelineConfig> {
  // The version first: everything read after it is at least that new, so a kept configuration is
  // never older than the version it is kept under.
  const version = (await getAccountConfigVersion(q, accountId)) ?? 0;
  const [account, rules, profiles, settings] = await Promise.all([
    getAccount(q, accountId),
    listRules(q, accountId),
    listProfiles(q, accountId),
    getAnalysisSettings(q, accountId),
  ]);
  return {
    version,
    rules,
    profiles: new Map(profiles.map((profile) => [profile.id, profile])),
    settings,
    webhooksEnabled: account?.webhooksEnabled ?? false,
  };
}
