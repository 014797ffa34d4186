import type { AnyConnectorDefinition, CatalogueEntry } from "./registry.ts";

type Schema = Record<string, unknown>;

/** One row of a config reference: a field, its type, whether required, default, description. */
export interface ConfigField {
  path: string;
  type: string;
  required: boolean;
  default: unknown;
  description: string;
  secret: boolean;
}

/** Flattens a kind's config JSON Schema into documented fields (nested objects as dotted paths). */
export function configFields(entry: CatalogueEntry): ConfigField[] {
  const fields: ConfigField[] = [];
  const walk = (schema: Schema, prefix: string, parentRequired: boolean) => {
    const properties = (schema["properties"] ?? {}) as Record<string, Schema>;
    const required = new Set((schema["required"] ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      const isRequired = parentRequired && required.has(name);
      const nested = unwrap(property);
      if (nested["type"] === "object" && nested["properties"]) {
        walk(nested, path, isRequired);
        continue;
      }
      fields.push({
        path,
        type: typeOf(nested),
        required: isRequired,
        default: property["default"] ?? nested["default"],
        description: String(property["description"] ?? nested["description"] ?? ""),
        secret: entry.secret_fields.includes(path),
      });
    }
  };
  walk(entry.config_schema, "", true);
  return fields;
}

function unwrap(schema: Schema): Schema {
  const options = (schema["anyOf"] ?? schema["oneOf"]) as Schema[] | undefined;
  if (options) {
    const concrete = options.filter((o) => o["type"] !== "null");
    if (concrete.length === 1) return { ...concrete[0], description: schema["description"] };
  }
  return schema;
}

function typeOf(schema: Schema): string {
  if (schema["enum"]) return (schema["enum"] as unknown[]).map((v) => JSON.stringify(v)).join(" \\| ");
  if (schema["const"] !== undefined) return JSON.stringify(schema["const"]);
  const options = (schema["anyOf"] ?? schema["oneOf"]) as Schema[] | undefined;
  if (options) return options.map(typeOf).join(" \\| ");
  if (schema["type"] === "array") return `${typeOf((schema["items"] ?? {}) as Schema)}[]`;
  const format = schema["format"] ? ` (${schema["format"]})` : "";
  return `${String(schema["type"] ?? "any")}${format}`;
}

/** The Markdown table of a kind's settings, as the integration pages embed it. */
export function configReferenceMarkdown(definition: AnyConnectorDefinition, entry: CatalogueEntry): string {
  const rows = configFields(entry).map(
    (f) =>
      `| \`${f.path}\` | ${f.type} | ${f.required ? "yes" : "no"} | ${f.default === undefined ? "" : `\`${JSON.stringify(f.default)}\``} | ${f.secret ? "**secret** (write-only) " : ""}${f.description.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`,
  );
  return [
    `Kind \`${definition.kind}\` (version ${definition.version}, ${definition.mode}): ${definition.summary}`,
    "",
    "| setting | type | required | default | meaning |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
