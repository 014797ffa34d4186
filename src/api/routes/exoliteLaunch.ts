import { z } from "zod";
import { signInWithExoliteLink } from "../../connectors/exolite/redirect.ts";
import { type RedirectRefusal, RedirectRefused } from "../../connectors/exolite/redirectLink.ts";
import { defineRoute } from "../route.ts";
import { sessionCookie } from "../sessionCookie.ts";

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

// The pages carry no script and load nothing: only their own inline style.
const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // The link holds a single-use token: never hand it on to another site.
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

function page(title: string, body: string, head = ""): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · cqa</title>${head}
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
h1{font-size:1.4rem}p{line-height:1.5}a{color:#2563eb}</style></head>
<body><main>${body}</main></body></html>`;
}

const refusals: Record<RedirectRefusal, { status: number; title: string; advice: string }> = {
  malformed: {
    status: 400,
    title: "This sign-in link is not complete",
    advice:
      "Go back to Exolite and press the cqa button again. If it keeps happening, tell your administrator.",
  },
  tampered: {
    status: 403,
    title: "This sign-in link is not valid",
    advice:
      "It was changed after Exolite signed it, or the secret shared with Exolite is not the one cqa has. Go back to Exolite and press the cqa button again; if it keeps happening, your administrator should check the redirect secret of the Exolite integration.",
  },
  expired: {
    status: 403,
    title: "This sign-in link has expired",
    advice: "Links from Exolite work for a few minutes. Go back to Exolite and press the cqa button again.",
  },
  replayed: {
    status: 403,
    title: "This sign-in link was used already",
    advice: "Each link works once. Go back to Exolite and press the cqa button again for a new one.",
  },
  unknown_user: {
    status: 403,
    title: "You have no cqa access yet",
    advice: "Ask a cqa administrator of your organisation to add you as a user.",
  },
  not_configured: {
    status: 404,
    title: "Sign-in from Exolite is not set up",
    advice: "A cqa administrator has to set a redirect secret in the account's Exolite integration.",
  },
};

/** GET /api/v1/exolite/launch?token=… — the cqa button of the Exolite dashboard. */
const exoliteLaunchRoute = defineRoute({
  method: "get",
  path: "/api/v1/exolite/launch",
  operationId: "exoliteLaunch",
  summary: "Sign in from the Exolite dashboard with a signed, single-use link",
  description:
    "Checks the link's HMAC-SHA256 (the Exolite integration's redirect secret), its expiry and that it was never used, " +
    "signs the user in with the session cookie and sends the browser on to the link's dashboard page. A refused " +
    "link gets a page that says why and what to do. See docs/integrations/exolite.md.",
  tag: "Integrations",
  auth: "public",
  query: z.object({ token: z.string().max(16_384).optional() }),
  responses: {
    200: { description: "Signed in: a page that continues to the dashboard page of the link" },
    400: { description: "The link is incomplete" },
    403: { description: "Expired, tampered with, used before, or the user has no access" },
    404: { description: "Sign-in from Exolite is not set up" },
  },
  async handle({ query, services, context }) {
    try {
      const launch = await signInWithExoliteLink(services.connectors, query.token ?? "");
      const target = escapeHtml(launch.target);
      return new Response(
        page(
          "Signing in",
          `<h1>Signed in to cqa</h1><p>Opening <a href="${target}">${target}</a>…</p>`,
          // A page of cqa moves on, so the next request is same-site and carries the session cookie.
          `<meta http-equiv="refresh" content="0;url=${target}">`,
        ),
        {
          status: 200,
          headers: {
            ...pageHeaders,
            "set-cookie": sessionCookie(context, launch.sessionToken, launch.expiresAt, services.clock.now()),
          },
        },
      );
    } catch (error) {
      if (!(error instanceof RedirectRefused)) throw error;
      const refusal = refusals[error.reason];
      return new Response(
        page(
          refusal.title,
          `<h1>${escapeHtml(refusal.title)}</h1><p>${escapeHtml(refusal.advice)}</p><p><small>${escapeHtml(error.message)}</small></p>`,
        ),
        { status: refusal.status, headers: pageHeaders },
      );
    }
  },
});

export const exoliteLaunchRoutes = [exoliteLaunchRoute];
