import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { hashPassword, passwordProblems } from "../../security/passwords.ts";
import { parsePublicKey } from "../../sftp/sshKeys.ts";
import { sqlStateOf } from "../../storage/db.ts";
import {
  deleteSftpUser,
  getSftpUser,
  insertSftpUser,
  listSftpUsers,
  type SftpUserRecord,
  updateSftpUser,
} from "../../storage/repositories/sftpUsers.ts";
import { auditAction } from "../auditTrail.ts";
import { defineRoute, type HandlerInput } from "../route.ts";

const base = "/api/v1/accounts/{account_id}/sftp-users";
const mb = 1024 * 1024;

function present(user: SftpUserRecord): Record<string, unknown> {
  return {
    sftp_user_id: user.id,
    username: user.username,
    password_set: user.passwordHash !== null,
    public_keys: user.publicKeys.map((k) => ({
      algorithm: k.algorithm,
      fingerprint: k.fingerprint,
      comment: k.comment,
    })),
    max_file_mb: Math.round(user.maxFileBytes / mb),
    created_at: user.createdAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    disabled_at: user.disabledAt?.toISOString() ?? null,
  };
}

const password = z.string({ error: "password must be a string" }).superRefine((value, ctx) => {
  for (const problem of passwordProblems(value))
    ctx.addIssue({ code: "custom", message: `password ${problem}` });
});
const publicKeys = z
  .array(z.string({ error: "public_keys entries must be strings" }).max(16_384))
  .max(20, { error: "public_keys may hold at most 20 keys" })
  .describe("OpenSSH public keys, e.g. the content of id_ed25519.pub.");
const maxFileMb = z
  .number()
  .int()
  .min(1, { error: "max_file_mb must be from 1 to 10240" })
  .max(10_240, { error: "max_file_mb must be from 1 to 10240" })
  .describe("Largest file this user may upload, in MiB (default 512).");

async function found(input: HandlerInput<unknown, unknown, unknown>): Promise<SftpUserRecord> {
  const id = input.context.req.param("sftp_user_id") ?? "";
  const user = /^[0-9a-f-]{36}$/i.test(id)
    ? await getSftpUser(input.services.db, input.caller.account.id, id)
    : null;
  if (!user) throw new AppError("NOT_FOUND", `No SFTP user '${id}' in this account`);
  return user;
}

const listRoute = defineRoute({
  method: "get",
  path: base,
  operationId: "listSftpUsers",
  summary: "List the account's SFTP users (logins of cqa's SFTP endpoint, jailed to the account's inbox)",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  responses: { 200: { description: "The SFTP users" } },
  async handle({ caller, services }) {
    return {
      status: 200,
      data: { sftp_users: (await listSftpUsers(services.db, caller.account.id)).map(present) },
    };
  },
});

const createRoute = defineRoute({
  method: "post",
  path: base,
  operationId: "createSftpUser",
  summary: "Create an SFTP user with a password and/or public keys",
  description:
    "The user logs in to cqa's SFTP endpoint (CQA_SFTP_PORT, default 2222) and sees only this account's inbox. " +
    "User names are unique across the whole cqa installation.",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  body: z
    .object({
      username: z.string({ error: "username is required" }).regex(/^[a-z][a-z0-9._-]{2,63}$/, {
        error: "username must be 3 to 64 lower-case letters, digits, . _ or -, starting with a letter",
      }),
      password: password.optional(),
      public_keys: publicKeys.optional(),
      max_file_mb: maxFileMb.optional(),
    })
    .refine((b) => b.password !== undefined || (b.public_keys?.length ?? 0) > 0, {
      error: "Give the SFTP user a password or at least one public key (or both)",
    }),
  responses: { 201: { description: "The SFTP user" }, 409: { description: "DUPLICATE user name" } },
  async handle({ body, caller, services }) {
    const now = services.clock.now();
    const user: SftpUserRecord = {
      id: newId(),
      accountId: caller.account.id,
      username: body.username,
      passwordHash: body.password === undefined ? null : await hashPassword(body.password),
      publicKeys: (body.public_keys ?? []).map(parsePublicKey),
      maxFileBytes: (body.max_file_mb ?? 512) * mb,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
      lastLoginAt: null,
    };
    try {
      await services.db.transaction(async (tx) => {
        await insertSftpUser(tx, user);
        await auditAction(tx, caller, now, "sftp_user.created", user.id, { username: user.username });
      });
    } catch (error) {
      if (sqlStateOf(error) === "23505") {
        throw new AppError(
          "DUPLICATE",
          `The SFTP user name '${body.username}' is taken (names are shared by every account of this cqa); choose another`,
        );
      }
      throw error;
    }
    return { status: 201, data: present(user) };
  },
});

const getRoute = defineRoute({
  method: "get",
  path: `${base}/{sftp_user_id}`,
  operationId: "getSftpUser",
  summary: "Get an SFTP user",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  responses: { 200: { description: "The SFTP user" }, 404: { description: "NOT_FOUND" } },
  async handle(input) {
    return { status: 200, data: present(await found(input)) };
  },
});

const updateRoute = defineRoute({
  method: "patch",
  path: `${base}/{sftp_user_id}`,
  operationId: "updateSftpUser",
  summary: "Change an SFTP user's password, keys, file size limit or state",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  body: z
    .object({
      password: password.nullable().optional().describe("A new password; null removes it (keys only)."),
      public_keys: publicKeys.optional().describe("Replaces the keys."),
      max_file_mb: maxFileMb.optional(),
      disabled: z.boolean().optional(),
    })
    .strict(),
  responses: { 200: { description: "The SFTP user" }, 404: { description: "NOT_FOUND" } },
  async handle(input) {
    const { body, caller, services } = input;
    const current = await found(input);
    const keys = body.public_keys === undefined ? current.publicKeys : body.public_keys.map(parsePublicKey);
    const passwordHash =
      body.password === undefined
        ? current.passwordHash
        : body.password === null
          ? null
          : await hashPassword(body.password);
    if (passwordHash === null && keys.length === 0) {
      throw new AppError("VALIDATION_ERROR", "An SFTP user needs a password or at least one public key");
    }
    const now = services.clock.now();
    const updated = await services.db.transaction(async (tx) => {
      const user = await updateSftpUser(
        tx,
        caller.account.id,
        current.id,
        {
          ...(body.password === undefined ? {} : { passwordHash }),
          ...(body.public_keys === undefined ? {} : { publicKeys: keys }),
          ...(body.max_file_mb === undefined ? {} : { maxFileBytes: body.max_file_mb * mb }),
          ...(body.disabled === undefined ? {} : { disabledAt: body.disabled ? now : null }),
        },
        now,
      );
      await auditAction(tx, caller, now, "sftp_user.updated", current.id, {
        password:
          body.password === undefined ? undefined : body.password === null ? "(removed)" : "(changed)",
        public_keys: body.public_keys === undefined ? undefined : keys.map((k) => k.fingerprint),
        max_file_mb: body.max_file_mb,
        disabled: body.disabled,
      });
      return user;
    });
    return { status: 200, data: present(updated!) };
  },
});

const deleteRoute = defineRoute({
  method: "delete",
  path: `${base}/{sftp_user_id}`,
  operationId: "deleteSftpUser",
  summary: "Delete an SFTP user (the inbox's files stay)",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  responses: { 200: { description: "Deleted" }, 404: { description: "NOT_FOUND" } },
  async handle(input) {
    const user = await found(input);
    await deleteSftpUser(input.services.db, input.caller.account.id, user.id);
    await auditAction(
      input.services.db,
      input.caller,
      input.services.clock.now(),
      "sftp_user.deleted",
      user.id,
      {
        username: user.username,
      },
    );
    return { status: 200, data: { sftp_user_id: user.id, deleted: true } };
  },
});

export const sftpUserRoutes = [listRoute, createRoute, getRoute, updateRoute, deleteRoute];
