import { buildOpenApiDocument } from "../openapi.ts";
import { defineRoute, type RouteSpec } from "../route.ts";

/** Liveness, readiness, metrics and the API description; no credentials needed. */
export function systemRoutes(documented: () => readonly RouteSpec[], version: string): RouteSpec[] {
  let document: Record<string, unknown> | null = null;
  return [
    defineRoute({
      method: "get",
      path: "/healthz",
      operationId: "health",
      summary: "Liveness: the process answers",
      tag: "System",
      auth: "public",
      responses: { 200: { description: "Alive" } },
      async handle() {
        return { status: 200, data: { status: "ok", version } };
      },
    }),
    defineRoute({
      method: "get",
      path: "/readyz",
      operationId: "ready",
      summary: "Readiness: the database answers and the schema is current",
      tag: "System",
      auth: "public",
      responses: {
        200: { description: "Ready" },
        503: { description: "Not ready, with the failing checks" },
      },
      async handle({ services }) {
        const readiness = await services.readiness();
        return {
          status: readiness.ready ? 200 : 503,
          data: { status: readiness.ready ? "ready" : "not_ready", checks: readiness.checks },
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      summary: "Prometheus metrics",
      tag: "System",
      auth: "public",
      responses: { 200: { description: "Text exposition format" } },
      async handle({ services }) {
        return new Response(await services.metrics(), {
          status: 200,
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/openapi.json",
      operationId: "openapi",
      summary: "This API as an OpenAPI 3.1 document",
      tag: "System",
      auth: "public",
      responses: { 200: { description: "The OpenAPI document" } },
      async handle() {
        document ??= buildOpenApiDocument(documented(), version);
        return new Response(JSON.stringify(document), {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      },
    }),
  ];
}
