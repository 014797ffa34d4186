/** Interaction fields a condition can test by name; any other field must be `metadata.<key>`. */
export const namedRuleFields = [
  "channel_type",
  "source",
  "language",
  "duration_seconds",
  "integration_id",
] as const;

export type NamedRuleField = (typeof namedRuleFields)[number];

const metadataPrefix = "metadata.";

/** How values of a field compare: duration is a number, metadata may be anything, the rest is text. */
export type RuleFieldKind = "number" | "text" | "metadata";

/** The metadata key a `metadata.<key>` field names, or null for any other field. */
export function metadataKeyOf(field: string): string | null {
  return field.startsWith(metadataPrefix) ? field.slice(metadataPrefix.length) : null;
}

/** The kind of a valid field name, or null when rules cannot test that field. */
export function ruleFieldKind(field: string): RuleFieldKind | null {
  const key = metadataKeyOf(field);
  if (key !== null) return key.trim().length > 0 && key.length <= 128 ? "metadata" : null;
  if (!(namedRuleFields as readonly string[]).includes(field)) return null;
  return field === "duration_seconds" ? "number" : "text";
}

/** "channel_type, source, …, integration_id or metadata.<key>", for messages. */
export const allowedFieldsText = `${namedRuleFields.join(", ")} or metadata.<key>`;
