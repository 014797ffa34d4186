// The dashboard's part of `npm run bench`: how much JavaScript the analysis list needs (gzipped, as
// served) and how soon its 50 rows are on screen in headless Chromium, against `cqa serve` on PGlite
// with 60 analysed conversations. Reported, never asserted.
import { existsSync, readdirSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BrowserContext, chromium } from "playwright-core";
import { buildDashboard, dashboardIsFresh } from "../scripts/build-dashboard.ts";
import { describeMachine, type GeneratedBlock } from "./report.ts";
import { startCqa } from "./servers.ts";

/** The aims for the analysis list. */
export const listBundleAimBytes = 300 * 1024;
export const listRenderAimMs = 1_000;

const chromiumPath = process.env["CQA_CHROMIUM"] ?? "/usr/bin/chromium";
const conversations = 60;
const rows = 50;

export interface DashboardFigures {
  listJsGzipBytes: number;
  listJsFiles: number;
  allJsGzipBytes: number;
  cssGzipBytes: number;
  /** Navigation start → the 50th row in the DOM, fresh browser profile each time (nothing cached). */
  coldMs: number[];
  /** The same with the browser's cache warm (reloads). */
  warmMs: number[];
  /** The list's data arrived → the 50th row in the DOM (React rendering the rows). */
  renderAfterDataMs: number[];
  buildMs: number | null;
  /** One-minute load average when the measuring started. */
  loadAverage: number;
}

const transcripts = [
  "Agent: Good morning, thank you for calling Acme. How can I help you today?\nCustomer: My bill is wrong.\n" +
    "Agent: I'm sorry to hear that, I understand. Could you confirm your date of birth?\nCustomer: 1 May 1980.\n" +
    "Agent: Fixed. Is there anything else I can help you with? Thank you for calling, have a great day.",
  "Agent: Hello! How can I help you today?\nCustomer: I need to reset my password.\n" +
    "Agent: Sure, I can help with that. Let me send you a reset link.\nCustomer: Thanks.",
  "Agent: Yeah?\nCustomer: I was charged twice.\nAgent: That's not my problem.\nCustomer: Unbelievable.",
];

// Runs in the page before the app: notes when the list first has 50 rows.
const rowWatcher = `(() => {
  const check = () => {
    if (window.__rowsAt === undefined && document.querySelectorAll("tbody tr").length >= ${rows}) {
      window.__rowsAt = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
})();`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** One load of the list: when the 50th row appeared, and when the list's data had arrived. */
async function measureLoad(
  context: BrowserContext,
  reload: boolean,
): Promise<{ rowsAt: number; dataAt: number }> {
  const page = context.pages()[0] ?? (await context.newPage());
  if (reload) await page.reload({ waitUntil: "commit" });
  else await page.goto("/analyses", { waitUntil: "commit" });
  // In-page code: the page's CSP forbids eval, so these are functions, typed without the DOM.
  await page.waitForFunction(() => (globalThis as { __rowsAt?: number }).__rowsAt !== undefined, null, {
    timeout: 30_000,
    polling: 50,
  });
  return page.evaluate(() => {
    const list = performance
      .getEntriesByType("resource")
      .filter((e) => e.name.includes("/analyses?")) as unknown as { responseEnd: number }[];
    return {
      rowsAt: (globalThis as { __rowsAt?: number }).__rowsAt ?? Number.NaN,
      dataAt: list.at(-1)?.responseEnd ?? Number.NaN,
    };
  });
}

export async function measureDashboard(options: {
  loads: number;
  log(line: string): void;
}): Promise<DashboardFigures> {
  const loadAverage = loadavg()[0] ?? 0;
  let buildMs: number | null = null;
  if (!dashboardIsFresh()) {
    options.log("  building the dashboard …");
    buildMs = (await buildDashboard()).ms;
  }
  const cqa = await startCqa({ database: "pglite", role: "all" });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const base = `${cqa.server.url}/api/v1/accounts/${cqa.accountId}`;
    const headers = { "x-api-key": cqa.apiKey, "content-type": "application/json" };
    const password = "benchmark password 0123456789";
    const user = await fetch(`${base}/users`, {
      method: "POST",
      headers,
      body: JSON.stringify({ email: "bench@example.com", password, role: "admin" }),
    });
    if (user.status !== 201)
      throw new Error(`creating the user answered ${user.status}: ${JSON.stringify(await json(user))}`);
    const batch = await fetch(`${base}/ingress/interactions/batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        interactions: Array.from({ length: conversations }, (_, i) => ({
          external_interaction_id: `bench-call-${String(i + 1).padStart(3, "0")}`,
          channel_type: i % 4 === 0 ? "CHAT" : "VOICE",
          transcript_text: transcripts[i % transcripts.length],
          metadata: { agent_id: `agent-${i % 7}`, team: i % 2 ? "north" : "south", campaign: "support" },
        })),
      }),
    });
    if (batch.status !== 202)
      throw new Error(`ingesting answered ${batch.status}: ${JSON.stringify(await json(batch))}`);
    const today = new Date().toISOString().slice(0, 10);
    const done = async () => {
      const listed = await fetch(`${base}/analyses?limit=100`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          other_filters: [
            { field: "date", operator: "range", value: { start_date: today, end_date: today } },
          ],
        }),
      });
      const data = (await json(listed))["data"] as { analyses: { status: string }[] };
      return data.analyses.filter((a) => a.status === "completed").length;
    };
    const waitUntil = Date.now() + 120_000;
    while ((await done()) < conversations) {
      if (Date.now() > waitUntil) throw new Error("the conversations were not analysed within 2 minutes");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // Sign in once through the page; each measured profile starts with that session cookie only.
    const signInContext = await browser.newContext({ baseURL: cqa.server.url });
    const signInPage = await signInContext.newPage();
    await signInPage.goto(`/?account=${cqa.accountId}`);
    await signInPage.getByLabel("E-mail").fill("bench@example.com");
    await signInPage.getByLabel("Password").fill(password);
    await signInPage.getByRole("button", { name: "Sign in" }).click();
    await signInPage
      .locator("tbody tr")
      .nth(rows - 1)
      .waitFor({ timeout: 30_000 });
    const cookies = await signInContext.cookies();
    await signInContext.close();

    const figures: DashboardFigures = {
      listJsGzipBytes: 0,
      listJsFiles: 0,
      allJsGzipBytes: 0,
      cssGzipBytes: 0,
      coldMs: [],
      warmMs: [],
      renderAfterDataMs: [],
      buildMs,
      loadAverage,
    };
    for (let i = 0; i < options.loads; i++) {
      const context = await browser.newContext({
        baseURL: cqa.server.url,
        viewport: { width: 1440, height: 900 },
      });
      await context.addCookies(cookies);
      await context.addInitScript(rowWatcher);
      const scripts = new Map<string, number>();
      if (i === 0) {
        context.on("response", async (response) => {
          const url = response.url();
          if (!/\.(js|css)$/.test(new URL(url).pathname)) return;
          const body = await response.body().catch(() => null);
          if (body) scripts.set(url, gzipSync(body, { level: 9 }).length);
        });
      }
      const cold = await measureLoad(context, false);
      figures.coldMs.push(cold.rowsAt);
      figures.renderAfterDataMs.push(cold.rowsAt - cold.dataAt);
      if (i === 0) {
        const js = [...scripts].filter(([url]) => url.endsWith(".js"));
        figures.listJsGzipBytes = js.reduce((sum, [, size]) => sum + size, 0);
        figures.listJsFiles = js.length;
        figures.cssGzipBytes = [...scripts]
          .filter(([url]) => url.endsWith(".css"))
          .reduce((s, [, n]) => s + n, 0);
      }
      const warm = await measureLoad(context, true);
      figures.warmMs.push(warm.rowsAt);
      figures.renderAfterDataMs.push(warm.rowsAt - warm.dataAt);
      await context.close();
    }
    figures.allJsGzipBytes = allBuiltJsGzipBytes();
    return figures;
  } finally {
    await browser.close().catch(() => {});
    await cqa.dispose();
  }
}

/** Every chunk of the build, gzipped as served: the most any page could load. */
function allBuiltJsGzipBytes(): number {
  const assets = fileURLToPath(new URL("../dist/dashboard/assets/", import.meta.url));
  if (!existsSync(assets)) return 0;
  return readdirSync(assets)
    .filter((name) => name.endsWith(".js.gz"))
    .reduce((sum, name) => sum + statSync(join(assets, name)).size, 0);
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${Math.round(value)} ms`;

/** The generated Markdown section. */
export function dashboardSection(figures: DashboardFigures, loads: number): string {
  const machine = describeMachine({ connections: 1, warmupSeconds: 0, durationSeconds: 0, postgres: null });
  const bundleMet = figures.listJsGzipBytes < listBundleAimBytes;
  const coldMax = Math.max(...figures.coldMs);
  const renderMet = coldMax < listRenderAimMs;
  const lines = [
    `Measured ${machine.date} on ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB RAM, Node ${machine.node}, ` +
      `headless Chromium; \`cqa serve\` on PGlite with ${conversations} analysed conversations; commit ${machine.commit}. ` +
      `${loads} loads of \`/analyses\` (${rows} rows a page), each in a fresh browser profile, then once more from its cache.`,
    "",
    "| figure | value | aim |",
    "| --- | ---: | --- |",
    `| JavaScript of the analysis list (gzipped, ${figures.listJsFiles} ${figures.listJsFiles === 1 ? "file" : "files"}) | ${kb(figures.listJsGzipBytes)} | < 300 KB — ${bundleMet ? "met" : "not met"} |`,
    `| all JavaScript of the dashboard (every page, gzipped) | ${kb(figures.allJsGzipBytes)} | — |`,
    `| CSS (gzipped) | ${kb(figures.cssGzipBytes)} | — |`,
    `| 50 rows on screen, nothing cached: median / slowest | ${ms(median(figures.coldMs))} / ${ms(coldMax)} | < 1 s — ${renderMet ? "met" : "not met"} |`,
    `| 50 rows on screen, cached: median / slowest | ${ms(median(figures.warmMs))} / ${ms(Math.max(...figures.warmMs))} | — |`,
    `| of which rendering after the list's data arrived: median / slowest | ${ms(median(figures.renderAfterDataMs))} / ${ms(Math.max(...figures.renderAfterDataMs))} | — |`,
  ];
  const notes: string[] = [];
  if (figures.buildMs !== null)
    notes.push(`The dashboard was built first (${(figures.buildMs / 1000).toFixed(1)} s).`);
  if (figures.loadAverage > machine.cores / 2) {
    notes.push(
      `The machine was busy (load average ${figures.loadAverage.toFixed(1)} on ${machine.cores} cores): ` +
        "the browser, cqa and other work competed for the cores, so the times are on the slow side.",
    );
  }
  if (notes.length > 0) lines.push("", ...notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

/** Where the dashboard's figures go on the results page. */
export const dashboardBlock: GeneratedBlock = { name: "dashboard", heading: "Dashboard figures" };
