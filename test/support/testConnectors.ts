// Connector kinds that exist only for tests: a paged JSON feed served by a local HTTP peer, read by
// a poll connector and by a stream connector. They exercise the connector framework exactly as the
// real connectors do (registry, sealed secrets, checkpoints, runs, dead letters, supervisor).
import { z } from "zod";
import type {
  ConnectionCheck,
  ConnectorDefinition,
  SourceItem,
  UnreadableRecord,
} from "../../src/connectors/connector.ts";
import { AppError } from "../../src/core/errors.ts";
import { safeFetch } from "../../src/net/safeFetch.ts";
import { startLocalServer } from "./httpPeers.ts";

const feedConfig = z.object({
  url: z.url({ error: "url must be the feed's http(s) URL" }),
  token: z.string().min(1, { error: "token must not be empty" }),
  page_size: z.number().int().min(1).max(500).default(50),
});
type FeedConfig = z.output<typeof feedConfig>;
const feedCheckpoint = z.object({ cursor: z.number().int().min(0) });
type FeedCheckpoint = z.output<typeof feedCheckpoint>;

interface FeedPage {
  records: { offset: number; body: string }[];
  next: number | null;
}

async function fetchPage(
  config: FeedConfig,
  allow: Parameters<typeof safeFetch>[1]["allow"],
  after: number,
): Promise<FeedPage> {
  const response = await safeFetch(`${config.url}?after=${after}&limit=${config.page_size}`, {
    allow,
    headers: { authorization: `Bearer ${config.token}` },
    timeoutMs: 5_000,
  });
  if (response.status === 401)
    throw new AppError("FETCH_FAILED", "The feed refused the token (401)", { retryable: false });
  if (response.status !== 200) {
    throw new AppError("FETCH_FAILED", `The feed answered ${response.status}`, { retryable: true });
  }
  return JSON.parse(response.body.toString("utf8")) as FeedPage;
}

/** Maps a feed record (a JSON object in the Standard API's item form) to a source item. */
function toSourceItems(page: FeedPage): { items: SourceItem[]; unreadable: UnreadableRecord[] } {
  const items: SourceItem[] = [];
  const unreadable: UnreadableRecord[] = [];
  for (const record of page.records) {
    const sourceRef = `feed offset ${record.offset}`;
    try {
      items.push({ sourceRef, item: JSON.parse(record.body), raw: record.body });
    } catch (error) {
      unreadable.push({
        sourceRef,
        raw: record.body,
        code: "INVALID_JSON",
        reason: `not JSON: ${(error as Error).message}`,
      });
    }
  }
  return { items, unreadable };
}

function feedTest(
  config: FeedConfig,
  allow: Parameters<typeof safeFetch>[1]["allow"],
): Promise<ConnectionCheck[]> {
  return fetchPage({ ...config, page_size: 1 }, allow, 0).then(
    () => [
      { name: "reach", ok: true, message: `${config.url} answers` },
      { name: "auth", ok: true, message: "The token is accepted" },
    ],
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      return /401/.test(message)
        ? [
            { name: "reach", ok: true, message: `${config.url} answers` },
            { name: "auth", ok: false, message: "The feed refused the token: check the token in the config" },
          ]
        : [{ name: "reach", ok: false, message: `${config.url} cannot be reached: ${message}` }];
    },
  );
}

/** A poll connector: each run reads pages after the checkpoint until the feed has no more. */
export const testFeedConnector: ConnectorDefinition<FeedConfig, FeedCheckpoint> = {
  kind: "test_feed",
  version: 1,
  title: "Test feed (poll)",
  summary: "Reads a paged JSON feed; exists for the framework's tests",
  mode: "poll",
  configSchema: feedConfig,
  secretFields: ["token"],
  checkpointSchema: feedCheckpoint,
  defaultSchedule: null,
  supportsRange: false,
  create(context) {
    return {
      test: () => feedTest(context.config, context.allow),
      async run(run) {
        let cursor = ((await context.readCheckpoint()) as FeedCheckpoint | null)?.cursor ?? 0;
        for (;;) {
          if (run.signal.aborted) return;
          const page = await fetchPage(context.config, context.allow, cursor);
          if (page.records.length === 0) return;
          const { items, unreadable } = toSourceItems(page);
          const next = page.next ?? cursor + page.records.length;
          await context.ingest(items, { runId: run.runId, checkpoint: { cursor: next }, unreadable });
          cursor = next;
          if (page.next === null) return;
        }
      },
      async lag() {
        return { records_behind: 0 };
      },
      // Results go back to the feed's /results endpoint, as a feedback topic would take them.
      async deliverResults(results) {
        const response = await safeFetch(`${new URL(context.config.url).origin}/results`, {
          allow: context.allow,
          method: "POST",
          headers: { authorization: `Bearer ${context.config.token}`, "content-type": "application/json" },
          body: JSON.stringify(results),
          timeoutMs: 5_000,
        });
        if (response.status !== 200) {
          throw new AppError("DELIVERY_FAILED", `The feed refused the results (${response.status})`, {
            retryable: true,
          });
        }
      },
    };
  },
};

/** A stream connector over the same feed: polls every few milliseconds while started. */
export const testStreamConnector: ConnectorDefinition<FeedConfig, FeedCheckpoint> = {
  ...testFeedConnector,
  kind: "test_stream",
  title: "Test feed (stream)",
  mode: "stream",
  supportsRange: true,
  create(context) {
    let timer: NodeJS.Timeout | null = null;
    let busy: Promise<void> = Promise.resolve();
    const pollOnce = async () => {
      const cursor = ((await context.readCheckpoint()) as FeedCheckpoint | null)?.cursor ?? 0;
      const page = await fetchPage(context.config, context.allow, cursor);
      if (page.records.length === 0) return;
      const { items, unreadable } = toSourceItems(page);
      await context.ingest(items, {
        checkpoint: { cursor: page.next ?? cursor + page.records.length },
        unreadable,
      });
    };
    return {
      test: () => feedTest(context.config, context.allow),
      async start() {
        const replay = await context.takeReplayRequest();
        if (replay) await context.ingest([], { checkpoint: { cursor: 0 } });
        timer = setInterval(() => {
          busy = busy.then(pollOnce).catch((error) => context.reportHealth({ error: String(error) }));
        }, 20);
      },
      async stop() {
        if (timer) clearInterval(timer);
        timer = null;
        await busy;
      },
    };
  },
};

/** The peer: a paged feed over HTTP with a bearer token; records can be added and faults injected. */
export async function startFeedPeer(token = "feed-token-1") {
  const records: string[] = [];
  let failNextRequests = 0;
  let succeedBeforeFailing = 0;
  let failResults = 0;
  const results: { deliveryId: string; event: string; externalInteractionId: string | null; body: string }[] =
    [];
  const server = await startLocalServer((request, response) => {
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.statusCode = 401;
      response.end("{}");
      return;
    }
    if (failNextRequests > 0 && succeedBeforeFailing > 0) {
      succeedBeforeFailing--;
    } else if (failNextRequests > 0) {
      failNextRequests--;
      response.statusCode = 503;
      response.end("{}");
      return;
    }
    const url = new URL(request.path, "http://feed");
    if (url.pathname === "/results") {
      if (failResults > 0) {
        failResults--;
        response.statusCode = 503;
        response.end("{}");
        return;
      }
      results.push(...(JSON.parse(request.body) as typeof results));
      response.end("{}");
      return;
    }
    const after = Number(url.searchParams.get("after") ?? 0);
    const limit = Number(url.searchParams.get("limit") ?? 50);
    const slice = records.slice(after, after + limit).map((body, i) => ({ offset: after + i, body }));
    const end = after + slice.length;
    response.setHeader("content-type", "application/json");
    response.end(
      JSON.stringify({ records: slice, next: end < records.length ? end : slice.length > 0 ? end : null }),
    );
  });
  return {
    ...server,
    token,
    config: (overrides: Record<string, unknown> = {}) => ({
      url: `${server.url}/feed`,
      token,
      page_size: 10,
      ...overrides,
    }),
    /** Adds records (objects are sent as JSON; strings as they are). */
    add(...items: (Record<string, unknown> | string)[]) {
      for (const item of items) records.push(typeof item === "string" ? item : JSON.stringify(item));
    },
    /** Replaces the record at `offset` (e.g. to fix a bad one before a retry). */
    replace(offset: number, item: Record<string, unknown>) {
      records[offset] = JSON.stringify(item);
    },
    /** The next `n` requests answer 503, after `after` more that succeed. */
    failNext(n: number, after = 0) {
      failNextRequests = n;
      succeedBeforeFailing = after;
    },
    get size() {
      return records.length;
    },
    /** Results the connector sent back, in arrival order. */
    results,
    /** The next `n` result deliveries answer 503. */
    failResults(n: number) {
      failResults = n;
    },
  };
}

/** A canonical chat interaction for the feed. */
export function feedChat(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    external_interaction_id: id,
    channel_type: "CHAT",
    transcript_text:
      "Agent: Hello, thank you for contacting Acme, how can I help you today?\nCustomer: Just checking.",
    ...extra,
  };
}
