// The API's own OpenAPI document: the dashboard builds evaluator forms from the schemas in it.

let cached: Promise<Record<string, unknown>> | null = null;

export function loadOpenApi(): Promise<Record<string, unknown>> {
  cached ??= fetch("/api/v1/openapi.json", { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error(`openapi.json answered ${r.status}`);
    return r.json() as Promise<Record<string, unknown>>;
  });
  cached.catch(() => {
    cached = null;
  });
  return cached;
}

/** The JSON Schema of an operation's request body. */
export function requestBodySchema(doc: Record<string, unknown>, path: string, method: string): unknown {
  const paths = doc["paths"] as Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>
  >;
  return paths?.[path]?.[method]?.requestBody?.content?.["application/json"]?.schema ?? null;
}
