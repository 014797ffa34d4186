import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { findUserByEmail, getUser } from "../../storage/repositories/users.ts";
import { embedPagePath, signEmbedToken } from "../../tenancy/embedTokens.ts";
import { auditAction } from "../auditTrail.ts";
import { defineRoute } from "../route.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Pages that can be embedded: the conversation list (with its filters in the query), a conversation,
// an analysis, and the insights page.
const embeddablePage =
  /^\/(analyses|insights|analyses\/[A-Za-z0-9._:-]{1,255}|interactions\/[A-Za-z0-9._:%-]{1,400})(\?[A-Za-z0-9=&%._~+,:-]{0,2000})?$/;

const body = z
  .object({
    user_id: z.string().regex(uuid, { error: "user_id must be the id of a user of this account" }).optional(),
    email: z.email({ error: "email must be the e-mail address of a user of this account" }).optional(),
    page: z
      .string()
      .regex(embeddablePage, {
        error:
          "page must be an embeddable dashboard page: /analyses (optionally with its filters, /analyses?…), /analyses/<analysis_id>, /interactions/<interaction_id> or /insights",
      })
      .default("/analyses")
      .describe("The dashboard page the link opens (without the /embed prefix)."),
    expires_in_seconds: z
      .number()
      .int()
      .min(10, { error: "expires_in_seconds must be from 10 to 3600" })
      .max(3600, { error: "expires_in_seconds must be from 10 to 3600" })
      .default(300)
      .describe(
        "How long the link may be opened (once). Issue a fresh link each time the host page renders.",
      ),
    session_minutes: z
      .number()
      .int()
      .min(5, { error: "session_minutes must be from 5 to 720" })
      .max(720, { error: "session_minutes must be from 5 to 720" })
      .default(480)
      .describe("How long the embedded session lasts once the link is opened."),
  })
  .refine((b) => (b.user_id === undefined) !== (b.email === undefined), {
    error: "Name the user the page opens for: give user_id or email (one of them)",
  });

const createEmbedTokenRoute = defineRoute({
  method: "post",
  path: "/api/v1/accounts/{account_id}/embed-tokens",
  operationId: "createEmbedToken",
  summary: "Create a signed, short-lived link that opens a dashboard page for a user inside an iframe",
  description:
    "For embedding cqa in another application (e.g. the ECC4x agent desktop): the answer's url opens the page " +
    "for the user, once, within expires_in_seconds. Only the account's embed_origins may frame it " +
    "(Content-Security-Policy frame-ancestors); set them with PATCH /api/v1/accounts/{account_id}.",
  tag: "Access",
  auth: "account",
  permission: "manage:users",
  rate: "other",
  body,
  responses: { 201: { description: "The link" }, 404: { description: "No such user" } },
  async handle({ body: input, caller, services, context }) {
    const user = input.user_id
      ? await getUser(services.db, caller.account.id, input.user_id)
      : await findUserByEmail(services.db, caller.account.id, input.email!);
    if (!user) throw new AppError("NOT_FOUND", `No user ${input.user_id ?? input.email} in this account`);
    if (user.disabledAt) throw new AppError("VALIDATION_ERROR", `The user ${user.email} is disabled`);
    const now = services.clock.now();
    const expiresAt = new Date(now.getTime() + input.expires_in_seconds * 1000);
    const { token } = signEmbedToken(services.masterKey, {
      accountId: caller.account.id,
      userId: user.id,
      page: input.page,
      expiresAt,
      sessionMinutes: input.session_minutes,
    });
    await auditAction(services.db, caller, now, "embed_token.created", user.id, { page: input.page });
    const origin = services.publicUrl ?? new URL(context.req.url).origin;
    const query = input.page.includes("?") ? `${input.page.slice(input.page.indexOf("?") + 1)}&` : "";
    const origins = caller.account.embedOrigins;
    return {
      status: 201,
      ...(origins.length === 0
        ? {
            message:
              "No origin may frame this account's pages yet: add the embedding application's origin to embed_origins (PATCH /api/v1/accounts/{account_id}).",
          }
        : {}),
      headers: { "cache-control": "no-store" },
      data: {
        embed_token: token,
        url: `${origin}/embed${embedPagePath(input.page)}?${query}embed_token=${token}`,
        page: input.page,
        user_id: user.id,
        expires_at: expiresAt.toISOString(),
        session_minutes: input.session_minutes,
        frame_ancestors: origins,
      },
    };
  },
});

export const embedRoutes = [createEmbedTokenRoute];
