import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { markWriteOnly } from "./configSecrets.ts";
import type { ConnectorDefinition } from "./connector.ts";

// biome-ignore lint/suspicious/noExplicitAny: the registry holds definitions of every config type
export type AnyConnectorDefinition = ConnectorDefinition<any, any>;

/** One entry of `GET /api/v1/connector-kinds`. */
export interface CatalogueEntry {
  kind: string;
  version: number;
  title: string;
  summary: string;
  mode: "poll" | "stream";
  supports_range: boolean;
  default_schedule: unknown;
  secret_fields: readonly string[];
  /** JSON Schema of `config`, generated from the validating schema; secrets are writeOnly. */
  config_schema: Record<string, unknown>;
}

/** The connector kinds a cqa process knows. */
export interface ConnectorRegistry {
  get(kind: string): AnyConnectorDefinition | undefined;
  /** The definition, or VALIDATION_ERROR naming the kinds there are. */
  require(kind: string): AnyConnectorDefinition;
  list(): AnyConnectorDefinition[];
  catalogue(): CatalogueEntry[];
}

export function createConnectorRegistry(definitions: readonly AnyConnectorDefinition[]): ConnectorRegistry {
  const byKind = new Map<string, AnyConnectorDefinition>();
  for (const definition of definitions) {
    if (byKind.has(definition.kind))
      throw new Error(`Connector kind '${definition.kind}' is registered twice`);
    byKind.set(definition.kind, definition);
  }
  let catalogue: CatalogueEntry[] | null = null;
  return {
    get: (kind) => byKind.get(kind),
    require(kind) {
      const definition = byKind.get(kind);
      if (!definition) {
        const known = [...byKind.keys()];
        throw new AppError(
          "VALIDATION_ERROR",
          known.length > 0
            ? `kind '${kind}' is not a connector kind; use one of: ${known.join(", ")}`
            : `kind '${kind}' is not a connector kind; this cqa has no connector kinds`,
        );
      }
      return definition;
    },
    list: () => [...byKind.values()],
    catalogue() {
      catalogue ??= [...byKind.values()].map((d) => ({
        kind: d.kind,
        version: d.version,
        title: d.title,
        summary: d.summary,
        mode: d.mode,
        supports_range: d.supportsRange,
        default_schedule: d.defaultSchedule ?? null,
        secret_fields: d.secretFields,
        config_schema: markWriteOnly(configJsonSchema(d.configSchema), d.secretFields),
      }));
      return catalogue;
    },
  };
}

function configJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
  delete json["$schema"];
  return json;
}
