import type { ConnectorEnvironment } from "../connectors/connectorContext.ts";
import type { Clock } from "../core/clock.ts";
import type { Engines } from "../engines/engineSet.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { Database } from "../storage/db.ts";
import type { RateLimiter } from "./rateLimiter.ts";

/** A structured logger (JSON lines); the API logs one line per failed request. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the HTTP layer uses, handed in by whoever starts it (server or tests). */
export interface ApiServices {
  db: Database;
  clock: Clock;
  blobs: BlobStore;
  allow: FetchAllowList;
  /** Master key: seals secrets and derives webhook signing secrets. */
  masterKey: string;
  /** sha256 of the operator token. */
  operatorTokenHash: string;
  rateLimiter: RateLimiter;
  log: Logger;
  /** Base URL for links cqa hands out; null = relative links. */
  publicUrl: string | null;
  /** Wakes local workers after work was queued. */
  onQueued(): void;
  /** The connector kinds and what connectors share (database, secrets, fetch policy). */
  connectors: ConnectorEnvironment;
  /** Tells this process's integration supervisor that integrations changed (start/stop streams now). */
  onIntegrationsChanged(): void;
  /** Health of the parts this process depends on. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>;
  /** The speech and language engines this server has (absent in processes built without them). */
  engines?: Engines;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Called once per answered request, for metrics. */
  observeRequest?(method: string, route: string, status: number, seconds: number): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
