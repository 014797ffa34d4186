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
import { ReportArrivals } from "../connectors/ecc4x/reportArrivals.ts";
import { connectorMediaFetcher } from "../connectors/mediaAccess.ts";
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
import { SftpEndpoint } from "../sftp/server.ts";
import { loadOrCreateHostKey } from "../sftp/sshKeys.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import { createFsBlobStore } from "../storage/blob/fsBlobStore.ts";
import { createS3BlobStore } from "../storage/blob/s3BlobStore.ts";
import type { Database } from "../storage/db.ts";
import { requeueOrphanedJobs } from "../storage/jobQueue.ts";
import { listMigrations, migrate } from "../storage/migrate.ts";
import { releaseOutboxLeases } from "../storage/outbox.ts";
import { openPglite } from "../storage/pglite.ts";
import { openPostgres } from "../storage/postgres.ts";
import { signingSecretLookup } from "../tenancy/apiKeys.ts";
import { decodeSettingsFrom, engineChecks, startEngines } from "./analysisEngines.ts";
import { mountDashboard } from "./dashboard.ts";
import { lockDataDir } from "./dataDirLock.ts";
import { embedPageOptions } from "./embed.ts";
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
  /** The SFTP endpoint (ECC4x reports) when CQA_SFTP_PORT is not off (roles all and api). */
  sftp: SftpEndpoint | null;
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
            preparedStatements: config.databasePreparedStatements,
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
  const blobs = await openBlobStore(config, async () => {
    await closeDb();
    unlock();
  });
  const allow = parseFetchAllowList(config.fetchAllow);
  const metrics = new Metrics();
  const hasWorkers = config.role !== "api";
  const engines = await startEngines(config.analysis);
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
  // s3:// URLs and integrations' recording URLs are opened with the account's stored credentials.
  const mediaCredentials = connectorMediaFetcher(connectors);

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
            analysis: { engines, decode: decodeSettingsFrom(config.analysis, engines) },
            media: {
              blobs,
              allow,
              timeoutMs: 60_000,
              maxAudioBytes: 500 * 1024 * 1024,
              maxTranscriptBytes: 10 * 1024 * 1024,
              credentials: mediaCredentials,
            },
            // Results leave as soon as they are committed, not at the dispatchers' next poll.
            onEventsQueued: (events) => {
              if (events.some((e) => e.channel === "webhook")) dispatcher?.notify();
              if (events.some((e) => e.channel === "integration")) results?.notify();
            },
          }),
          fileIngestionHandler({
            db,
            clock,
            allow,
            blobs,
            credentials: mediaCredentials,
            onQueued: () => worker?.notify(),
          }),
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
            ...engineChecks(engines),
          },
        };
      } catch (error) {
        return { ready: false, checks: { database: { ok: false, detail: describeError(error) } } };
      }
    },
    engines,
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
  // The web dashboard, on the same port; registered after the API so it never shadows a route.
  // Embedded pages (/embed/...) may be framed by the origins of the account of their signed link.
  if (config.role !== "worker")
    mountDashboard(app, embedPageOptions({ db, clock, masterKey: secrets.masterKey }));

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

  // The SFTP endpoint for ECC4x VLA reports: an upload that completes starts the integrations reading it.
  const arrivals = new ReportArrivals(connectors, () => worker?.notify());
  let sftp: SftpEndpoint | null = null;
  if (config.sftpPort !== null && config.role !== "worker") {
    const endpoint = new SftpEndpoint({
      db,
      blobs,
      clock,
      hostKey: loadOrCreateHostKey(config.dataDir),
      host: config.host,
      port: config.sftpPort,
      log,
      onFileReady: (file) => arrivals.notify(file),
    });
    await endpoint.start().catch(async (error: NodeJS.ErrnoException) => {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await worker?.stop(0);
      await dispatcher?.stop();
      await supervisor?.stop();
      await results?.stop();
      await closeDb();
      unlock();
      throw new AppError(
        "CONFIG_INVALID",
        error.code === "EADDRINUSE"
          ? `Port ${config.sftpPort} (the SFTP endpoint) is already in use: stop the other program, or set CQA_SFTP_PORT to another port (or to off)`
          : `cqa could not open its SFTP endpoint on ${config.host}:${config.sftpPort}: ${error.message}`,
        { cause: error },
      );
    });
    sftp = endpoint;
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      arrivals.stop();
      await sftp?.stop();
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
      blobs.close?.();
      unlock();
    })();
    return stopping;
  };
  return {
    config,
    url,
    app,
    services,
    db,
    worker,
    dispatcher,
    supervisor,
    results,
    sftp,
    secrets,
    log,
    stop,
  };
}

/**
 * cqa's own blob store: the filesystem (CQA_BLOB_DIR), or S3 (CQA_BLOB_URL), checked at start so a
 * wrong bucket or credentials stop cqa with a clear message instead of failing the first recording.
 */
async function openBlobStore(
  config: CqaConfig,
  onFailure: () => Promise<void>,
): Promise<BlobStore & { close?(): void }> {
  const settings = config.blobStore;
  if (settings.kind === "filesystem") return createFsBlobStore(config.blobDir);
  const store = createS3BlobStore(settings);
  try {
    await store.check();
  } catch (error) {
    store.close();
    await onFailure();
    throw error;
  }
  return store;
}
