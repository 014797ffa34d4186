// cqa serves the built dashboard on the API's port: hashed assets cached for a year, pages answered
// by index.html (the app routes in the browser), and never in the way of the API, health or metrics.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import type { Hono } from "hono";
import { createApiApp } from "../../src/api/index.ts";
import { mountDashboard } from "../../src/server/dashboard.ts";
import { startTestCqa, type TestCqa } from "../support/testCqa.ts";

const index =
  '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head></html>';
const script = "console.log('dashboard');".repeat(40);

describe("the dashboard is served by cqa itself", () => {
  let cqa: TestCqa;
  let dir: string;
  let app: Hono;
  const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cqa-dashboard-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), index);
    writeFileSync(join(dir, "assets", "app-1a2b3c.js"), script);
    writeFileSync(join(dir, "assets", "app-1a2b3c.js.gz"), gzipSync(script));
    writeFileSync(join(dir, "favicon.svg"), "<svg/>");
    cqa = await startTestCqa();
    // The same API as the runtime's, with the dashboard mounted from a known directory.
    app = createApiApp(cqa.running.services, "test");
    mountDashboard(app, { dir });
  });

  after(async () => {
    await cqa?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the runtime serves a page at / (the build, or how to make it) and the API is untouched", async () => {
    const fresh = await startTestCqa();
    try {
      const page = await fresh.running.app.request("/");
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.ok(page.status === 200 || page.status === 503, `answered ${page.status}`);
      if (page.status === 503) assert.match(await page.text(), /npm run build/);
      const openapi = await fresh.running.app.request("/api/v1/openapi.json");
      assert.equal(openapi.status, 200);
      assert.match(openapi.headers.get("content-type") ?? "", /json/);
    } finally {
      await fresh.stop();
    }
  });

  test("page paths answer index.html, revalidated on every visit, with a strict CSP", async () => {
    for (const path of [
      "/",
      "/analyses",
      "/analyses/0199-aaaa",
      "/interactions/chat-001.txt",
      "/settings/users",
    ]) {
      const answer = await get(path);
      assert.equal(answer.status, 200, path);
      assert.equal(await answer.text(), index, path);
      assert.equal(answer.headers.get("cache-control"), "no-cache");
      const csp = answer.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'self'/);
      assert.equal(answer.headers.get("x-frame-options"), "SAMEORIGIN");
      assert.equal(answer.headers.get("x-content-type-options"), "nosniff");
    }
  });

  test("embedded pages may be framed by cqa's own pages (the signed embed flow widens it)", async () => {
    const answer = await get("/embed/analyses/123");
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), index);
    assert.equal(answer.headers.get("x-frame-options"), null);
    assert.match(answer.headers.get("content-security-policy") ?? "", /frame-ancestors 'self'/);
  });

  test("hashed assets are cached for a year and sent compressed when the browser accepts it", async () => {
    const plain = await get("/assets/app-1a2b3c.js");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(plain.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal(await plain.text(), script);
    const gzipped = await get("/assets/app-1a2b3c.js", { "accept-encoding": "gzip, br" });
    assert.equal(gzipped.headers.get("content-encoding"), "gzip");
    assert.equal(gzipped.headers.get("vary"), "Accept-Encoding");
    const etag = plain.headers.get("etag")!;
    const again = await get("/assets/app-1a2b3c.js", { "if-none-match": etag });
    assert.equal(again.status, 304);
    const favicon = await get("/favicon.svg");
    assert.equal(favicon.headers.get("content-type"), "image/svg+xml");
    assert.equal(favicon.headers.get("cache-control"), "public, max-age=3600");
  });

  test("a missing asset is a 404, never the app page", async () => {
    const answer = await get("/assets/app-000000.js");
    assert.equal(answer.status, 404);
    assert.doesNotMatch(await answer.text(), /<!doctype html>/);
  });

  test("API paths, health, readiness and metrics are never shadowed", async () => {
    const unknown = await get("/api/v1/no-such-endpoint");
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    const bare = await get("/api");
    assert.equal(bare.status, 404);
    assert.match(bare.headers.get("content-type") ?? "", /json/);
    assert.equal((await get("/healthz")).status, 200);
    assert.match((await get("/metrics")).headers.get("content-type") ?? "", /^text\/plain/);
    const posted = await app.request("/analyses", { method: "POST" });
    assert.equal(posted.status, 404, "only GET and HEAD reach the dashboard");
  });

  test("no path escapes the dashboard directory", async () => {
    for (const path of [
      "/assets/../../../etc/passwd",
      "/assets/%2e%2e/%2e%2e/etc/passwd",
      "/..%2f..%2fetc/passwd",
    ]) {
      const answer = await get(path);
      assert.ok(!(await answer.text()).includes("root:"), path);
    }
  });

  test("without a build, pages say how to build it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cqa-dashboard-empty-"));
    try {
      const unbuilt = createApiApp(cqa.running.services, "test");
      mountDashboard(unbuilt, { dir: empty });
      const answer = await unbuilt.request("/analyses");
      assert.equal(answer.status, 503);
      assert.match(await answer.text(), /npm run build/);
      assert.equal((await unbuilt.request("/healthz")).status, 200);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
