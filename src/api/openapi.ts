import { z } from "zod";
import { apiErrorStatus } from "../core/errors.ts";
import type { RouteSpec } from "./route.ts";

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema of a zod schema, embeddable in the document. Its `$defs` (recursive or shared parts,
 * e.g. nested rule conditions) move to `components.schemas` as `<prefix>_<name>`: once embedded,
 * "#/$defs/..." would point at the document's root, where nothing is.
 */
function toJsonSchema(schema: z.ZodType, components: Record<string, JsonSchema>, prefix: string): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as JsonSchema;
  delete json["$schema"];
  const defs = json["$defs"] as Record<string, JsonSchema> | undefined;
  if (!defs) return json;
  delete json["$defs"];
  const componentName = (def: string) => `${prefix}_${def.replace(/^_+/, "")}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) =>
        key === "$ref" && typeof inner === "string" && inner.startsWith("#/$defs/")
          ? [key, `#/components/schemas/${componentName(inner.slice("#/$defs/".length))}`]
          : [key, rewrite(inner)],
      ),
    );
  };
  for (const [name, def] of Object.entries(defs))
    components[componentName(name)] = rewrite(def) as JsonSchema;
  return rewrite(json) as JsonSchema;
}

const envelope = (data?: JsonSchema): JsonSchema => ({
  type: "object",
  required: ["status", "request_id"],
  properties: {
    status: { type: "integer", description: "The HTTP status, mirrored" },
    request_id: { type: "string", description: "Quote it to support" },
    message: { type: "string" },
    ...(data ? { data } : {}),
  },
});

const errorEnvelope: JsonSchema = {
  type: "object",
  required: ["status", "request_id", "message", "error"],
  properties: {
    status: { type: "integer" },
    request_id: { type: "string" },
    message: { type: "string", description: "What is wrong and how to fix it" },
    error: {
      type: "object",
      required: ["code"],
      properties: {
        code: { type: "string", enum: Object.keys(apiErrorStatus) },
        details: { description: "Per-item problems, when there are several" },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document, generated from the same route specs and zod schemas that validate
 * requests, so the documentation cannot drift from the behaviour.
 */
export function buildOpenApiDocument(routes: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, JsonSchema> = { Error: errorEnvelope };
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.description ? { description: route.description } : {}),
      parameters: [...pathParameters(route.path), ...queryParameters(route)],
      security: security(route.auth),
      responses: responses(route, schemas),
    };
    const body = route.documentedBody ?? (typeof route.body === "function" ? route.body(null) : route.body);
    if (body) {
      const content: Record<string, unknown> = {
        "application/json": { schema: toJsonSchema(body, schemas, `${route.operationId}Body`) },
      };
      if (route.multipart) {
        content["multipart/form-data"] = {
          schema: {
            type: "object",
            description:
              "The same fields as form fields (metadata as a JSON string) plus the recording as `audio`",
            properties: { audio: { type: "string", format: "binary" } },
            additionalProperties: true,
          },
        };
      }
      operation["requestBody"] = { required: true, content };
    }
    const methods = paths[route.path] ?? {};
    methods[route.method] = operation;
    paths[route.path] = methods;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "cqa API",
      version,
      description:
        "Conversation quality analysis. The Data import and Analysis operations follow the published Exotel CQA API " +
        "field for field; the others are cqa's management and review additions.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        session: {
          type: "http",
          scheme: "bearer",
          description: "Session token from POST /api/v1/auth/login",
        },
        operator: { type: "http", scheme: "bearer", description: "The operator token (CQA_OPERATOR_TOKEN)" },
      },
      schemas,
    },
    paths,
  };
}

function pathParameters(path: string): JsonSchema[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
}

function queryParameters(route: RouteSpec): JsonSchema[] {
  if (!route.query || !(route.query instanceof z.ZodObject)) return [];
  const shape = route.query.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, schema]) => ({
    name,
    in: "query",
    required: !schema.safeParse(undefined).success,
    schema: { type: "string" },
  }));
}

function security(auth: RouteSpec["auth"]): Record<string, string[]>[] {
  switch (auth) {
    case "public":
      return [];
    case "operator":
      return [{ operator: [] }];
    case "session":
      return [{ session: [] }];
    case "account":
      return [{ apiKey: [] }, { session: [] }];
  }
}

function responses(route: RouteSpec, schemas: Record<string, JsonSchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const ok = Number(status) < 400;
    out[status] = {
      description: response.description,
      content: {
        "application/json": {
          schema: ok
            ? envelope(
                response.schema
                  ? toJsonSchema(response.schema, schemas, `${route.operationId}${status}`)
                  : { type: "object" },
              )
            : { $ref: "#/components/schemas/Error" },
        },
      },
    };
  }
  if (route.auth !== "public" && !out["401"]) {
    out["401"] = {
      description: "UNAUTHORIZED",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}
