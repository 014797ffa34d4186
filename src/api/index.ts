import type { Hono } from "hono";
import { createApp } from "./app.ts";
import type { RouteSpec } from "./route.ts";
import { accessRoutes } from "./routes/access.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { analysisRoutes } from "./routes/analyses.ts";
import { analysisSettingsRoutes } from "./routes/analysisSettings.ts";
import { configurationRoutes } from "./routes/configuration.ts";
import { embedRoutes } from "./routes/embed.ts";
import { exoliteLaunchRoutes } from "./routes/exoliteLaunch.ts";
import { ingressRoutes } from "./routes/ingress.ts";
import { insightRoutes } from "./routes/insights.ts";
import { integrationRoutes } from "./routes/integrations.ts";
import { metadataFieldRoutes } from "./routes/metadataFields.ts";
import { operationRoutes } from "./routes/operations.ts";
import { preferenceRoutes } from "./routes/preferences.ts";
import { sftpUserRoutes } from "./routes/sftpUsers.ts";
import { systemRoutes } from "./routes/system.ts";
import type { ApiServices } from "./services.ts";

export type { ApiServices, Logger } from "./services.ts";
export { silentLogger } from "./services.ts";

/** Every route of the API, in registration order (more specific paths first). */
export function apiRoutes(version: string): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...accountRoutes,
    ...accessRoutes,
    ...preferenceRoutes,
    ...ingressRoutes,
    ...operationRoutes,
    ...analysisRoutes,
    // Before the profile routes: /quality-profiles/validate is more specific than /quality-profiles/{id}.
    ...analysisSettingsRoutes,
    ...configurationRoutes,
    ...metadataFieldRoutes,
    ...insightRoutes,
    ...integrationRoutes,
    ...sftpUserRoutes,
    ...embedRoutes,
    ...exoliteLaunchRoutes,
  ];
  return [...systemRoutes(() => routes, version), ...routes];
}

/** The HTTP application of cqa. */
export function createApiApp(services: ApiServices, version: string): Hono {
  return createApp(services, apiRoutes(version));
}
