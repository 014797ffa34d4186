import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, Hono } from "hono";

/** Where `npm run build` puts the dashboard (web/ built by Vite). */
export const defaultDashboardDir = fileURLToPath(new URL("../../dist/dashboard", import.meta.url));

/** Paths the dashboard never answers: they belong to the API and the operators' probes. */
const reserved = /^\/(api(\/|$)|healthz$|readyz$|metrics$)/;

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

/** The pages' Content-Security-Policy: only cqa's own scripts, styles, media and API. */
function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // React sets style attributes (chart sizes, progress bars); no inline script is ever allowed.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
}

export interface DashboardOptions {
  /** The built dashboard: index.html and assets/. */
  dir?: string;
  /**
   * Who may frame the embedded pages (`/embed/...`), as a CSP source list. Default `'self'`; the
   * signed embed flow widens it to the account's allow-list. Other pages are never framed by others.
   */
  embedFrameAncestors?: (c: Context) => Promise<string> | string;
  /**
   * For an embedded page opened with a signed link: the session the link was exchanged for, handed to
   * the page in `<meta name="cqa-embed-session">` (the page then talks to the API with it as a bearer
   * token; cookies are not sent to framed cross-site pages). Null when there is none to hand over.
   */
  embedSession?: (c: Context) => Promise<string | null>;
}

/**
 * Serves the dashboard from the same process and port as the API: hashed assets with a year of
 * caching, every other page path answered by index.html (the app routes in the browser). API paths,
 * health, readiness and metrics are never shadowed: unknown ones still get the API's JSON 404.
 */
export function mountDashboard(app: Hono, options: DashboardOptions = {}): void {
  const dir = resolve(options.dir ?? defaultDashboardDir);
  app.get("/*", async (c) => {
    const path = decodePath(new URL(c.req.url).pathname);
    if (path === null) return c.notFound();
    if (reserved.test(path)) return c.notFound();
    // Hashed assets exist or are missing (404); other files (favicon) are served when they exist,
    // and every other path is a page of the app, whatever it looks like (ids may contain dots).
    if (path.startsWith("/assets/")) return serveFile(c, dir, path) ?? c.notFound();
    const file = extname(path) !== "" ? serveFile(c, dir, path) : null;
    if (file) return file;
    return servePage(c, dir, path.startsWith("/embed/") || path === "/embed", options);
  });
}

function decodePath(raw: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (path.includes("\u0000") || path.split("/").includes("..")) return null;
  return path;
}

function etagOf(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** The file at `path` under the dashboard directory, or null when there is none. */
function serveFile(c: Context, dir: string, path: string): Response | null {
  const file = resolve(join(dir, path));
  if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return null;
  const type = contentTypes[extname(file)] ?? "application/octet-stream";
  const hashed = path.startsWith("/assets/");
  const headers: Record<string, string> = {
    "content-type": type,
    // Asset names carry a hash of their content: a new build has new names, so they never go stale.
    "cache-control": hashed ? "public, max-age=31536000, immutable" : "public, max-age=3600",
    "x-content-type-options": "nosniff",
    vary: "Accept-Encoding",
  };
  let body = file;
  const gzipped = `${file}.gz`;
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "") && existsSync(gzipped)) {
    body = gzipped;
    headers["content-encoding"] = "gzip";
  }
  const stat = statSync(body);
  const etag = etagOf(stat.size, stat.mtimeMs);
  headers["etag"] = etag;
  if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(readFileSync(body), { status: 200, headers });
}

async function servePage(
  c: Context,
  dir: string,
  embedded: boolean,
  options: DashboardOptions,
): Promise<Response> {
  const index = join(dir, "index.html");
  const frameAncestors = embedded ? ((await options.embedFrameAncestors?.(c)) ?? "'self'") : "'self'";
  const headers: Record<string, string> = {
    "content-type": contentTypes[".html"]!,
    // Always revalidated, so a new build is picked up on the next visit.
    "cache-control": "no-cache",
    "content-security-policy": contentSecurityPolicy(frameAncestors),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    ...(embedded ? {} : { "x-frame-options": "SAMEORIGIN" }),
  };
  if (!existsSync(index)) {
    return new Response(notBuiltPage, { status: 503, headers });
  }
  const session = embedded ? ((await options.embedSession?.(c)) ?? null) : null;
  if (session !== null) {
    // Holds a session token: never cached, never revalidated, never sent on as a referrer.
    headers["cache-control"] = "no-store";
    headers["referrer-policy"] = "no-referrer";
    const meta = `<meta name="cqa-embed-session" content="${escapeAttribute(session)}">`;
    const page = readFileSync(index, "utf8").replace("</head>", `${meta}</head>`);
    return new Response(page, { status: 200, headers });
  }
  const stat = statSync(index);
  const etag = etagOf(stat.size, stat.mtimeMs);
  headers["etag"] = etag;
  if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(readFileSync(index), { status: 200, headers });
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cqa — dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>This cqa serves its API, but the web dashboard has not been built in this copy.
Run <code>npm run build</code> (or <code>npm start</code>, which builds it first) and reload.</p>
<p>The API is unaffected: see <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`;

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
