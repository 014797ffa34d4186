import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";
import { createApp } from "../api/app.ts";
import { apiRoutes, type Logger } from "../api/index.ts";
import { RateLimiter } from "../api/rateLimiter.ts";
import { systemRoutes } from "../api/routes/system.ts";
import type { ApiServices } from "../api/services.ts";
import type { CqaConfig } from "../config/config.ts";
import { builtInConnectors } from "../connectors/builtIn.ts";
import type { ConnectorEnvironment } from "../connectors/connectorContext.ts";
import { type AnyConnectorDefinition, createConnectorRegistry } from "../connectors/registry.ts";
import { IntegrationResultDispatcher } from "../connectors/resultDispatcher.ts";
import { IntegrationSupervisor, integrationRunHandler } from "../connectors/supervisor.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { AppError, describeError } from "../core/errors.ts";
import { WebhookDispatcher } from "../delivery/webhookDispatcher.ts";
import { parseFetchAllowList } from "../net/allowList.ts";
import { fileIngestionHandler } from "../pipeline/fileIngestionHandler.ts";
import { JobWorker } from "../pipeline/jobWorker.ts";
import { processInteractionHandler } from "../pipeline/processInteraction.ts";
import { hashToken } from "../security/tokens.ts";
import { createFsBlobStore } from "../storage/blob/fsBlobStore.ts";
import type { Database } from "../storage/db.ts";
import { requeueOrphanedJobs } from "../storage/jobQueue.ts";
import { listMigrations, migrate } from "../storage/migrate.ts";
import { releaseOutboxLeases } from "../storage/outbox.ts";
import { openPglite } from "../storage/pglite.ts";
import { openPostgres } from "../storage/postgres.ts";
import { signingSecretLookup } from "../tenancy/apiKeys.ts";
import { lockDataDir } from "./dataDirLock.ts";
import { createJsonLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { loadOrCreateSecrets, type ServerSecrets } from "./secrets.ts";
import { cqaVersion } from "./version.ts";

export interface StartOptions {
  config: CqaConfig;
  clock?: Clock;
  log?: Logger;
  /** Open the HTTP port (default true); tests may call `app.request` instead. */
  listen?: boolean;
  /** Start the worker and dispatcher loops (default true); tests drive them by hand instead. */
  runLoops?: boolean;
  /** An open, caller-owned database to use instead of opening one from the config (tests). */
  database?: Database;
  /** How long a webhook receiver gets to answer (default 10 s, as published); tests shorten it. */
  webhookTimeoutMs?: number;
  /** Connector kinds beside the built-in ones (tests, and simulators under test tooling). */
  extraConnectors?: readonly AnyConnectorDefinition[];
}

/** A running cqa: its parts, where it listens, and how to stop it. */
export interface RunningCqa {
  config: CqaConfig;
  url: string | null;
  app: Hono;
  services: ApiServices;
  db: Database;
  worker: JobWorker | null;
  dispatcher: WebhookDispatcher | null;
  /** Schedules poll integrations and runs stream consumers (worker role). */
  supervisor: IntegrationSupervisor | null;
  /** Sends analysis results back to the integrations interactions came from (worker role). */
  results: IntegrationResultDispatcher | null;
  secrets: ServerSecrets;
  log: Logger;
  stop(): Promise<void>;
}

/**
 * Starts cqa: storage (embedded PGlite, or PostgreSQL with DATABASE_URL), migrations, secrets, the
 * HTTP API, the job worker and the webhook dispatcher — by role.
 */
export async function startCqa(options: StartOptions): Promise<RunningCqa> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createJsonLogger(config.logLevel);
  const embedded = config.databaseUrl === null && options.database === undefined;
  if (embedded && config.role !== "all") {
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_ROLE=${config.role} needs a shared database: set DATABASE_URL (the embedded database serves one process)`,
    );
  }
  const unlock = embedded ? lockDataDir(config.dataDir) : () => {};
  let db: Database;
  try {
    db = options.database
      ? options.database
      : embedded
        ? await openPglite(join(config.dataDir, "db"))
        : await openPostgres({
            connectionString: config.databaseUrl!,
            ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
          });
  } catch (error) {
    unlock();
    throw new AppError("CONFIG_INVALID", `cqa could not open its database: ${describeError(error)}`, {
      cause: error,
    });
  }
  const closeDb = options.database ? async () => {} : () => db.close();
  try {
    await migrate(db);
    if (embedded) {
      // The data-dir lock proves no other process uses this database, so anything still leased was
      // leased by one that died (kill -9, power cut): hand it out now instead of when the lease ends.
      const jobs = await requeueOrphanedJobs(db, clock.now());
      const webhooks = await releaseOutboxLeases(db);
      if (jobs + webhooks > 0)
        log.info("resuming work a previous cqa process left unfinished", { jobs, webhooks });
    }
  } catch (error) {
    await closeDb();
    unlock();
    throw error;
  }
  const secrets = loadOrCreateSecrets(config);
  const blobs = createFsBlobStore(config.blobDir);
  const allow = parseFetchAllowList(config.fetchAllow);
  const metrics = new Metrics();
  const hasWorkers = config.role !== "api";
  const onError = (message: string, error: unknown) => log.error(message, { error: describeError(error) });
  const connectors: ConnectorEnvironment = {
    db,
    clock,
    allow,
    blobs,
    masterKey: secrets.masterKey,
    registry: createConnectorRegistry([...builtInConnectors, ...(options.extraConnectors ?? [])]),
    log,
    onQueued: () => worker?.notify(),
  };

  const worker = hasWorkers
    ? new JobWorker({
        db,
        clock,
        concurrency: config.workerConcurrency,
        leaseMs: config.jobLeaseMs,
        onError,
        handlers: [
          processInteractionHandler({
            db,
            clock,
            transcriber: null,
            media: {
              blobs,
              allow,
              timeoutMs: 60_000,
              maxAudioBytes: 500 * 1024 * 1024,
              maxTranscriptBytes: 10 * 1024 * 1024,
            },
          }),
          fileIngestionHandler({ db, clock, allow, blobs, onQueued: () => worker?.notify() }),
          integrationRunHandler(connectors),
        ],
      })
    : null;
  const dispatcher = hasWorkers
    ? new WebhookDispatcher({
        db,
        clock,
        allow,
        signingSecretFor: signingSecretLookup(db, secrets.masterKey),
        onError,
        ...(options.webhookTimeoutMs ? { timeoutMs: options.webhookTimeoutMs } : {}),
      })
    : null;

  const supervisor = hasWorkers
    ? new IntegrationSupervisor(connectors, () => {
        worker?.notify();
      })
    : null;
  const results = hasWorkers ? new IntegrationResultDispatcher(connectors) : null;

  const services: ApiServices = {
    db,
    clock,
    blobs,
    allow,
    masterKey: secrets.masterKey,
    operatorTokenHash: hashToken(secrets.operatorToken),
    rateLimiter: new RateLimiter(clock),
    log,
    publicUrl: config.publicUrl,
    onQueued: () => {
      worker?.notify();
      dispatcher?.notify();
      results?.notify();
    },
    connectors,
    onIntegrationsChanged: () => {
      supervisor?.tick().catch((error) => onError("integration supervisor tick failed", error));
    },
    readiness: async () => {
      try {
        const result = await db.query<{ version: number }>(
          "SELECT max(version) AS version FROM schema_migrations",
        );
        const current = result.rows[0]?.version ?? 0;
        const expected = listMigrations().at(-1)?.version ?? 0;
        const schemaOk = current === expected;
        return {
          ready: schemaOk,
          checks: {
            database: { ok: true, detail: db.dialect },
            schema: { ok: schemaOk, detail: `version ${current} of ${expected}` },
          },
        };
      } catch (error) {
        return { ready: false, checks: { database: { ok: false, detail: describeError(error) } } };
      }
    },
    metrics: () => metrics.render(db),
    observeRequest: (method, route, status, seconds) =>
      metrics.observeRequest(method, route, status, seconds),
  };

  const version = cqaVersion();
  const app =
    config.role === "worker"
      ? createApp(
          services,
          systemRoutes(() => [], version),
        )
      : createApp(services, apiRoutes(version));

  if (options.runLoops ?? true) {
    worker?.start();
    dispatcher?.start();
    supervisor?.start();
    results?.start();
  }

  let server: ServerType | null = null;
  let url: string | null = null;
  if (options.listen ?? true) {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new AppError(
            "CONFIG_INVALID",
            error.code === "EADDRINUSE"
              ? `Port ${config.port} is already in use: stop the other program or set CQA_PORT`
              : `cqa could not listen on ${config.host}:${config.port}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
    }).catch(async (error) => {
      await worker?.stop(0);
      await dispatcher?.stop();
      await closeDb();
      unlock();
      throw error;
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    url = `http://${host}:${port}`;
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        // Idle keep-alive connections close at once; busy ones get a moment to finish.
        (s as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        const force = setTimeout(
          () => (s as { closeAllConnections?: () => void }).closeAllConnections?.(),
          2_000,
        );
        await closed;
        clearTimeout(force);
      }
      await supervisor?.stop();
      await results?.stop();
      await worker?.stop(config.shutdownGraceMs);
      await dispatcher?.stop();
      await closeDb();
      unlock();
    })();
    return stopping;
  };
  return { config, url, app, services, db, worker, dispatcher, supervisor, results, secrets, log, stop };
}
