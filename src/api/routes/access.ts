import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { hashPassword, passwordProblems } from "../../security/passwords.ts";
import { sqlStateOf } from "../../storage/db.ts";
import { getAccount } from "../../storage/repositories/accounts.ts";
import { type ApiKeyRecord, listApiKeys, revokeApiKey, roles } from "../../storage/repositories/apiKeys.ts";
import { revokeSession } from "../../storage/repositories/sessions.ts";
import {
  deleteUser,
  getUser,
  insertUser,
  listUsers,
  type UserRecord,
  updateUser,
} from "../../storage/repositories/users.ts";
import { issueApiKey } from "../../tenancy/apiKeys.ts";
import { authenticateSession, forgetApiKey, type Principal, signIn } from "../../tenancy/authenticate.ts";
import { auditAction } from "../auditTrail.ts";
import { permissionsOf } from "../permissions.ts";
import { defineRoute } from "../route.ts";
import {
  assertSameSiteSignIn,
  clearedSessionCookie,
  csrfTokenFor,
  sessionCookie,
  sessionTokenFromCookie,
} from "../sessionCookie.ts";

const base = "/api/v1/accounts/{account_id}";
const role = z.enum(roles as [string, ...string[]], { error: `role must be one of ${roles.join(", ")}` });

function presentKey(key: ApiKeyRecord): Record<string, unknown> {
  return {
    api_key_id: key.id,
    name: key.name,
    prefix: `cqa_${key.prefix}_…`,
    role: key.role,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

const listKeysRoute = defineRoute({
  method: "get",
  path: `${base}/api-keys`,
  operationId: "listApiKeys",
  summary: "List API keys (prefix only; secrets are never shown again)",
  tag: "Access",
  auth: "account",
  permission: "manage:keys",
  rate: "other",
  responses: { 200: { description: "The keys" } },
  async handle({ caller, services }) {
    return {
      status: 200,
      data: { api_keys: (await listApiKeys(services.db, caller.account.id)).map(presentKey) },
    };
  },
});

const createKeyRoute = defineRoute({
  method: "post",
  path: `${base}/api-keys`,
  operationId: "createApiKey",
  summary: "Create an API key (the key and its webhook signing secret are shown once)",
  tag: "Access",
  auth: "account",
  permission: "manage:keys",
  rate: "other",
  body: z.object({
    name: z
      .string({ error: (i) => (i.input === undefined ? "name is required" : "name must be a string") })
      .trim()
      .min(1, { error: "name must not be empty" })
      .max(100),
    role: role.optional(),
  }),
  responses: { 201: { description: "The new key" } },
  async handle({ body, caller, services }) {
    const now = services.clock.now();
    const issued = await services.db.transaction(async (tx) => {
      const key = await issueApiKey(tx, services.masterKey, {
        accountId: caller.account.id,
        name: body.name,
        role: (body.role ?? "admin") as ApiKeyRecord["role"],
        at: now,
      });
      await auditAction(tx, caller, now, "api_key.created", key.record.id, {
        name: body.name,
        role: key.record.role,
      });
      return key;
    });
    return {
      status: 201,
      message: "Store the api_key and webhook_signing_secret now: they are not shown again.",
      data: {
        ...presentKey(issued.record),
        api_key: issued.key,
        webhook_signing_secret: issued.webhookSigningSecret,
      },
    };
  },
});

const revokeKeyRoute = defineRoute({
  method: "delete",
  path: `${base}/api-keys/{api_key_id}`,
  operationId: "revokeApiKey",
  summary: "Revoke an API key (takes effect within 10 seconds on every cqa process)",
  tag: "Access",
  auth: "account",
  permission: "manage:keys",
  rate: "other",
  responses: { 200: { description: "Revoked" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const id = context.req.param("api_key_id") ?? "";
    const now = services.clock.now();
    const keys = await listApiKeys(services.db, caller.account.id);
    const key = keys.find((k) => k.id === id);
    if (!key) throw new AppError("NOT_FOUND", `No API key '${id}' in this account`);
    await services.db.transaction(async (tx) => {
      await revokeApiKey(tx, caller.account.id, id, now);
      await auditAction(tx, caller, now, "api_key.revoked", id);
    });
    forgetApiKey(key.prefix);
    return { status: 200, data: presentKey({ ...key, revokedAt: key.revokedAt ?? now }) };
  },
});

function presentUser(user: UserRecord): Record<string, unknown> {
  return {
    user_id: user.id,
    email: user.email,
    display_name: user.displayName,
    role: user.role,
    agent_id: user.agentId,
    metadata_scope: user.metadataScope,
    created_at: user.createdAt.toISOString(),
    disabled_at: user.disabledAt?.toISOString() ?? null,
  };
}

const password = z.string({ error: "password must be a string" }).superRefine((value, ctx) => {
  for (const problem of passwordProblems(value))
    ctx.addIssue({ code: "custom", message: `password ${problem}` });
});
const metadataScope = z.record(z.string().min(1), z.array(z.string()).min(1), {
  error: 'metadata_scope must map metadata keys to lists of allowed values, e.g. {"region": ["north"]}',
});

const listUsersRoute = defineRoute({
  method: "get",
  path: `${base}/users`,
  operationId: "listUsers",
  summary: "List users",
  tag: "Access",
  auth: "account",
  permission: "manage:users",
  rate: "other",
  responses: { 200: { description: "The users" } },
  async handle({ caller, services }) {
    return {
      status: 200,
      data: { users: (await listUsers(services.db, caller.account.id)).map(presentUser) },
    };
  },
});

const createUserRoute = defineRoute({
  method: "post",
  path: `${base}/users`,
  operationId: "createUser",
  summary: "Create a user with a role and, optionally, a metadata access scope",
  tag: "Access",
  auth: "account",
  permission: "manage:users",
  rate: "other",
  body: z.object({
    email: z.email({ error: "email must be an e-mail address" }),
    password,
    role,
    display_name: z.string().max(200).optional(),
    agent_id: z.string().max(200).optional(),
    metadata_scope: metadataScope.optional(),
  }),
  responses: { 201: { description: "The user" }, 409: { description: "DUPLICATE email" } },
  async handle({ body, caller, services }) {
    if (body.role === "agent" && !body.agent_id) {
      throw new AppError(
        "VALIDATION_ERROR",
        "agent_id is required for agents: it links them to their conversations (metadata agent_id)",
      );
    }
    const now = services.clock.now();
    const user: UserRecord = {
      id: newId(),
      accountId: caller.account.id,
      email: body.email,
      displayName: body.display_name ?? null,
      role: body.role as UserRecord["role"],
      passwordHash: await hashPassword(body.password),
      metadataScope: body.metadata_scope ?? {},
      agentId: body.agent_id ?? null,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    };
    try {
      await services.db.transaction(async (tx) => {
        await insertUser(tx, user);
        await auditAction(tx, caller, now, "user.created", user.id, { email: user.email, role: user.role });
      });
    } catch (error) {
      if (sqlStateOf(error) === "23505")
        throw new AppError("DUPLICATE", `A user with email ${body.email} exists already`);
      throw error;
    }
    return { status: 201, data: presentUser(user) };
  },
});

const updateUserRoute = defineRoute({
  method: "patch",
  path: `${base}/users/{user_id}`,
  operationId: "updateUser",
  summary: "Change a user's role, scope, password or state",
  tag: "Access",
  auth: "account",
  permission: "manage:users",
  rate: "other",
  body: z
    .object({
      password: password.optional(),
      role: role.optional(),
      display_name: z.string().max(200).nullable().optional(),
      agent_id: z.string().max(200).nullable().optional(),
      metadata_scope: metadataScope.optional(),
      disabled: z.boolean().optional(),
    })
    .strict(),
  responses: { 200: { description: "The user" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body, caller, services }) {
    const id = context.req.param("user_id") ?? "";
    const current = /^[0-9a-f-]{36}$/i.test(id) ? await getUser(services.db, caller.account.id, id) : null;
    if (!current) throw new AppError("NOT_FOUND", `No user '${id}' in this account`);
    const role = body.role ?? current.role;
    const agentId = body.agent_id === undefined ? current.agentId : body.agent_id;
    if (role === "agent" && !agentId) {
      throw new AppError(
        "VALIDATION_ERROR",
        "agent_id is required for agents: it links them to their conversations (metadata agent_id)",
      );
    }
    const now = services.clock.now();
    const updated = await updateUser(
      services.db,
      caller.account.id,
      id,
      {
        ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
        ...(body.role ? { role: body.role as UserRecord["role"] } : {}),
        ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
        ...(body.agent_id === undefined ? {} : { agentId: body.agent_id }),
        ...(body.metadata_scope ? { metadataScope: body.metadata_scope } : {}),
        ...(body.disabled === undefined ? {} : { disabledAt: body.disabled ? now : null }),
      },
      now,
    );
    await auditAction(services.db, caller, now, "user.updated", id, {
      ...body,
      password: body.password ? "(changed)" : undefined,
    });
    return { status: 200, data: presentUser(updated!) };
  },
});

const deleteUserRoute = defineRoute({
  method: "delete",
  path: `${base}/users/{user_id}`,
  operationId: "deleteUser",
  summary: "Delete a user",
  tag: "Access",
  auth: "account",
  permission: "manage:users",
  rate: "other",
  responses: { 200: { description: "Deleted" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const id = context.req.param("user_id") ?? "";
    const deleted = /^[0-9a-f-]{36}$/i.test(id) && (await deleteUser(services.db, caller.account.id, id));
    if (!deleted) throw new AppError("NOT_FOUND", `No user '${id}' in this account`);
    await auditAction(services.db, caller, services.clock.now(), "user.deleted", id);
    return { status: 200, data: { user_id: id, deleted: true } };
  },
});

const loginRoute = defineRoute({
  method: "post",
  path: "/api/v1/auth/login",
  operationId: "login",
  summary: "Sign in with e-mail and password; answers a session bearer token",
  tag: "Access",
  auth: "public",
  body: z.object({
    account_id: z
      .string({ error: "account_id is required" })
      .regex(/^[0-9a-f-]{36}$/i, { error: "account_id must be an account UUID" }),
    email: z.string({ error: "email is required" }).min(1),
    password: z.string({ error: "password is required" }).min(1),
    cookie: z
      .boolean({ error: "cookie must be true or false" })
      .optional()
      .describe(
        "true: keep the session in an HttpOnly SameSite=Strict cookie (browsers, the dashboard) instead of " +
          "answering the token; state-changing requests then need the answered csrf_token in X-CSRF-Token.",
      ),
  }),
  responses: { 200: { description: "The session token" }, 401: { description: "Wrong email or password" } },
  async handle({ body, services, context }) {
    if (body.cookie) assertSameSiteSignIn(context);
    const session = await signIn(
      { db: services.db, clock: services.clock },
      { accountId: body.account_id, email: body.email, password: body.password },
    );
    const principal = session.principal;
    const common = {
      expires_at: session.expiresAt.toISOString(),
      account_id: principal.accountId,
      user_id: principal.id,
      role: principal.role,
    };
    if (body.cookie) {
      // The token goes into the HttpOnly cookie only: script on the page never sees it.
      return {
        status: 200,
        data: {
          token_type: "cookie",
          csrf_token: csrfTokenFor(services.masterKey, session.token),
          ...common,
          permissions: permissionsOf(principal.role),
        },
        headers: {
          "set-cookie": sessionCookie(context, session.token, session.expiresAt, services.clock.now()),
          "cache-control": "no-store",
        },
      };
    }
    return { status: 200, data: { token: session.token, token_type: "Bearer", ...common } };
  },
});

const sessionRoute = defineRoute({
  method: "get",
  path: "/api/v1/auth/session",
  operationId: "getSession",
  summary: "The browser session of the session cookie, if any, with its CSRF token",
  description:
    "For the dashboard: tells a page whether the browser is signed in (cookie from POST /api/v1/auth/login " +
    "with cookie: true), as whom, and the CSRF token its state-changing requests must send in X-CSRF-Token.",
  tag: "Access",
  auth: "public",
  responses: { 200: { description: "signed_in, and the user and CSRF token when signed in" } },
  async handle({ services, context }) {
    const token = sessionTokenFromCookie(context);
    const signedOut = {
      status: 200,
      data: { signed_in: false },
      headers: { "cache-control": "no-store" },
    };
    if (!token) return signedOut;
    let principal: Principal;
    try {
      principal = await authenticateSession(services.db, services.clock, token);
    } catch (error) {
      if (error instanceof AppError && error.code === "UNAUTHORIZED")
        return {
          ...signedOut,
          headers: { ...signedOut.headers, "set-cookie": clearedSessionCookie(context) },
        };
      throw error;
    }
    if (principal.kind !== "user") return signedOut;
    const [user, account] = await Promise.all([
      getUser(services.db, principal.accountId, principal.id),
      getAccount(services.db, principal.accountId),
    ]);
    return {
      status: 200,
      headers: { "cache-control": "no-store" },
      data: {
        signed_in: true,
        csrf_token: csrfTokenFor(services.masterKey, token),
        account_id: principal.accountId,
        user_id: principal.id,
        email: principal.email,
        display_name: user?.displayName ?? null,
        role: principal.role,
        agent_id: principal.agentId,
        metadata_scope: principal.metadataScope,
        permissions: permissionsOf(principal.role),
        // What a page needs to show dates in the account's time zone, without another request.
        account: account ? { account_id: account.id, name: account.name, timezone: account.timezone } : null,
      },
    };
  },
});

const logoutRoute = defineRoute({
  method: "post",
  path: `${base}/auth/logout`,
  operationId: "logout",
  summary: "End the current session",
  tag: "Access",
  auth: "session",
  responses: { 200: { description: "Signed out" } },
  async handle({ caller, services, context }) {
    if (caller.principal.kind === "user")
      await revokeSession(services.db, caller.principal.sessionId, services.clock.now());
    return {
      status: 200,
      data: { signed_out: true },
      headers: { "set-cookie": clearedSessionCookie(context) },
    };
  },
});

const meRoute = defineRoute({
  method: "get",
  path: `${base}/me`,
  operationId: "whoAmI",
  summary: "Who the credentials belong to, and their role",
  tag: "Access",
  auth: "account",
  responses: { 200: { description: "The caller" } },
  async handle({ caller }) {
    const p = caller.principal;
    return {
      status: 200,
      data:
        p.kind === "api_key"
          ? {
              kind: "api_key",
              api_key_id: p.id,
              name: p.name,
              role: p.role,
              account_id: p.accountId,
              permissions: permissionsOf(p.role),
            }
          : {
              kind: "user",
              user_id: p.id,
              email: p.email,
              role: p.role,
              account_id: p.accountId,
              agent_id: p.agentId,
              metadata_scope: p.metadataScope,
              permissions: permissionsOf(p.role),
            },
    };
  },
});

export const accessRoutes = [
  listKeysRoute,
  createKeyRoute,
  revokeKeyRoute,
  listUsersRoute,
  createUserRoute,
  updateUserRoute,
  deleteUserRoute,
  loginRoute,
  sessionRoute,
  logoutRoute,
  meRoute,
];
