import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import {
  deleteMetadataField,
  discoverMetadataKeys,
  getMetadataField,
  listMetadataFields,
  type MetadataFieldRecord,
  type MetadataFieldType,
  upsertMetadataField,
} from "../../storage/repositories/metadataFields.ts";
import { rowScopeOf } from "../access.ts";
import { auditAction } from "../auditTrail.ts";
import { defineRoute } from "../route.ts";

const base = "/api/v1/accounts/{account_id}/metadata-fields";

function presentField(field: MetadataFieldRecord): Record<string, unknown> {
  return {
    key: field.key,
    label: field.label,
    type: field.type,
    enabled: field.enabled,
    filterable: field.filterable,
    access_controlled: field.accessControlled,
    created_at: field.createdAt.toISOString(),
    updated_at: field.updatedAt.toISOString(),
  };
}

const fieldKey = z
  .string({ error: "key is required" })
  .trim()
  .min(1, { error: "key must not be empty" })
  .max(128, { error: "key must be at most 128 characters (the metadata key limit)" })
  .describe("The metadata key as conversations carry it, e.g. agent_id or campaign.");
const fieldType = z
  .enum(["string", "number", "boolean"], { error: "type must be string, number or boolean" })
  .describe("How values are compared and shown; default string.");
const settings = {
  label: z
    .string({ error: "label must be a string" })
    .trim()
    .min(1, { error: "label must not be empty" })
    .max(200)
    .describe('What people see, e.g. "Agent" for agent_id.'),
  type: fieldType,
  enabled: z.boolean().describe("Shown in the dashboard; default true."),
  filterable: z.boolean().describe("Offered as a filter of lists and insights; default true."),
  access_controlled: z
    .boolean()
    .describe("Offered in users' metadata access scopes (row-level access); default false."),
};

async function requireField(
  q: Parameters<typeof getMetadataField>[0],
  accountId: string,
  key: string,
): Promise<MetadataFieldRecord> {
  const field = await getMetadataField(q, accountId, key);
  if (!field) throw new AppError("NOT_FOUND", `No metadata field '${key}' in this account`);
  return field;
}

const listFieldsRoute = defineRoute({
  method: "get",
  path: base,
  operationId: "listMetadataFields",
  summary: "Metadata fields: labels, filterable and access-controlled keys; plus keys seen but not set up",
  description:
    "`discovered` lists metadata keys carried by the account's recent conversations (those the caller may " +
    "see) that have no field yet, with how many of the sampled conversations carry each.",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The fields and the discovered keys" } },
  async handle({ caller, services }) {
    const [fields, seen] = await Promise.all([
      listMetadataFields(services.db, caller.account.id),
      discoverMetadataKeys(services.db, caller.account.id, rowScopeOf(caller)),
    ]);
    const known = new Set(fields.map((f) => f.key));
    return {
      status: 200,
      data: {
        metadata_fields: fields.map(presentField),
        discovered: seen.filter((s) => !known.has(s.key)).map((s) => ({ key: s.key, seen: s.seen })),
      },
    };
  },
});

const saveFieldRoute = defineRoute({
  method: "post",
  path: base,
  operationId: "saveMetadataField",
  summary: "Set up a metadata field (or replace the settings of an existing key)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z
    .object({
      key: fieldKey,
      label: settings.label.optional(),
      type: settings.type.optional(),
      enabled: settings.enabled.optional(),
      filterable: settings.filterable.optional(),
      access_controlled: settings.access_controlled.optional(),
    })
    .strict(),
  responses: { 201: { description: "Created" }, 200: { description: "Replaced" } },
  async handle({ body, caller, services }) {
    const now = services.clock.now();
    const saved = await services.db.transaction(async (tx) => {
      const result = await upsertMetadataField(
        tx,
        {
          accountId: caller.account.id,
          key: body.key,
          label: body.label ?? body.key,
          type: (body.type ?? "string") as MetadataFieldType,
          enabled: body.enabled ?? true,
          filterable: body.filterable ?? true,
          accessControlled: body.access_controlled ?? false,
        },
        now,
      );
      await auditAction(tx, caller, now, "metadata_field.saved", body.key, body);
      return result;
    });
    return { status: saved.created ? 201 : 200, data: presentField(saved.field) };
  },
});

const updateFieldRoute = defineRoute({
  method: "patch",
  path: `${base}/{field_key}`,
  operationId: "updateMetadataField",
  summary: "Change a metadata field's label, type or flags",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z
    .object({
      label: settings.label.optional(),
      type: settings.type.optional(),
      enabled: settings.enabled.optional(),
      filterable: settings.filterable.optional(),
      access_controlled: settings.access_controlled.optional(),
    })
    .strict(),
  responses: { 200: { description: "The field" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body, caller, services }) {
    const key = context.req.param("field_key") ?? "";
    const now = services.clock.now();
    const saved = await services.db.transaction(async (tx) => {
      const current = await requireField(tx, caller.account.id, key);
      const result = await upsertMetadataField(
        tx,
        {
          ...current,
          ...(body.label === undefined ? {} : { label: body.label }),
          ...(body.type === undefined ? {} : { type: body.type as MetadataFieldType }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.filterable === undefined ? {} : { filterable: body.filterable }),
          ...(body.access_controlled === undefined ? {} : { accessControlled: body.access_controlled }),
        },
        now,
      );
      await auditAction(tx, caller, now, "metadata_field.updated", key, body);
      return result.field;
    });
    return { status: 200, data: presentField(saved) };
  },
});

const deleteFieldRoute = defineRoute({
  method: "delete",
  path: `${base}/{field_key}`,
  operationId: "deleteMetadataField",
  summary: "Remove a metadata field (conversations keep their metadata)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  responses: { 200: { description: "Deleted" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const key = context.req.param("field_key") ?? "";
    const now = services.clock.now();
    await services.db.transaction(async (tx) => {
      if (!(await deleteMetadataField(tx, caller.account.id, key)))
        throw new AppError("NOT_FOUND", `No metadata field '${key}' in this account`);
      await auditAction(tx, caller, now, "metadata_field.deleted", key);
    });
    return { status: 200, data: { key, deleted: true } };
  },
});

export const metadataFieldRoutes = [listFieldsRoute, saveFieldRoute, updateFieldRoute, deleteFieldRoute];
