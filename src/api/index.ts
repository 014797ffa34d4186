import type { Hono } from "hono";
import { createApp } from "./app.ts";
import type { RouteSpec } from "./route.ts";
import { accessRoutes } from "./routes/access.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { analysisRoutes } from "./routes/analyses.ts";
import { configurationRoutes } from "./routes/configuration.ts";
import { ingressRoutes } from "./routes/ingress.ts";
import { integrationRoutes } from "./routes/integrations.ts";
import { operationRoutes } from "./routes/operations.ts";
import { systemRoutes } from "./routes/system.ts";
import type { ApiServices } from "./services.ts";

export type { ApiServices, Logger } from "./services.ts";
export { silentLogger } from "./services.ts";

/** Every route of the API, in registration order (more specific paths first). */
export function apiRoutes(version: string): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...accountRoutes,
    ...accessRoutes,
    ...ingressRoutes,
    ...operationRoutes,
    ...analysisRoutes,
    ...configurationRoutes,
    ...integrationRoutes,
  ];
  return [...systemRoutes(() => routes, version), ...routes];
}

/** The HTTP application of cqa. */
export function createApiApp(services: ApiServices, version: string): Hono {
  return createApp(services, apiRoutes(version));
}
