// Load generation with autocannon: a warm-up, then a fixed-duration measurement, with every
// request carrying interactions whose external_interaction_id was never sent before.
import autocannon from "autocannon";

/** The two ingest endpoints and how many interactions each request carries. */
export type Endpoint = "single" | "batch";

/** What one measurement saw. */
export interface LoadResult {
  durationSeconds: number;
  /** Requests answered 2xx. */
  succeeded: number;
  /** Requests sent, including those still in flight when the time was up. */
  sent: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  statusCodes: Record<string, number>;
  /** The first few non-2xx answers, to say why a run is invalid. */
  failureSamples: string[];
}

export interface LoadOptions {
  baseUrl: string;
  path: string;
  apiKey: string | null;
  endpoint: Endpoint;
  itemsPerRequest: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Distinguishes ids of this run from any other. */
  idPrefix: string;
}

// A realistic chat/voice transcript (~1.1 KB): the size matters, it is what gets parsed and stored.
const transcript = [
  "[00:00:02] Agent: Good morning, thank you for calling Northwind Energy, my name is Priya. How can I help?",
  "[00:00:09] Customer: Hi Priya. I've been charged twice for my March bill and I'm not happy about it.",
  "[00:00:15] Agent: I'm sorry to hear that, I can imagine that's frustrating. Let's get it sorted.",
  "[00:00:22] Agent: Before I look at the account, can you confirm your full name and date of birth?",
  "[00:00:29] Customer: Sure, it's Daniel Okafor, twelfth of June 1984.",
  "[00:00:43] Agent: Thank you, you're verified. I'll just put you on hold for a moment while I check.",
  "[00:01:58] Agent: Thank you for holding. I can see the duplicate payment of 86.40 on the fourth.",
  "[00:02:08] Agent: I've raised a refund, it should be back in your account within three to five days.",
  "[00:02:15] Customer: Great, thanks for sorting that.",
  "[00:02:18] Agent: You're welcome. Is there anything else I can help you with today?",
  "[00:02:22] Customer: No, that's everything.",
  "[00:02:24] Agent: Thank you for calling Northwind Energy, have a great day.",
].join("\n");

/** One interaction of the benchmark, with `externalId` as its deduplication key. */
function benchItem(externalId: string): string {
  return JSON.stringify({
    external_interaction_id: externalId,
    channel_type: "VOICE",
    source: "bench-pbx",
    language: "en",
    interaction_start_time: "2026-03-14T09:30:00Z",
    duration_seconds: 147,
    transcript_text: transcript,
    metadata: { queue: "billing", agent_id: "agent-042", campaign: "spring", priority: 2 },
  });
}

const counterDigits = 10;

/**
 * Returns a function that builds the next request body; ids never repeat within a factory. Bodies
 * are a template copied with the ids written in place, so the load generator — on the same cores as
 * the server — spends as little as possible on them.
 */
export function bodyFactory(endpoint: Endpoint, itemsPerRequest: number, idPrefix: string): () => Buffer {
  const marker = `${idPrefix}-${"#".repeat(counterDigits)}`;
  const items = Array.from({ length: endpoint === "single" ? 1 : itemsPerRequest }, () => benchItem(marker));
  const template = Buffer.from(endpoint === "single" ? items[0]! : `{"interactions":[${items.join(",")}]}`);
  const offsets: number[] = [];
  for (let at = template.indexOf(marker); at >= 0; at = template.indexOf(marker, at + marker.length)) {
    offsets.push(at + idPrefix.length + 1);
  }
  let next = 0;
  return () => {
    const body = Buffer.allocUnsafe(template.length);
    template.copy(body);
    for (const offset of offsets) body.write(String(next++).padStart(counterDigits, "0"), offset, "latin1");
    return body;
  };
}

/** The measurement, and the warm-up before it (whose requests also stored interactions). */
export interface MeasuredLoad {
  warmup: LoadResult | null;
  measured: LoadResult;
}

/** Warms the server up, then measures it for `durationSeconds`. */
export async function measureLoad(options: LoadOptions): Promise<MeasuredLoad> {
  const nextBody = bodyFactory(options.endpoint, options.itemsPerRequest, options.idPrefix);
  const warmup =
    options.warmupSeconds > 0 ? await runAutocannon(options, options.warmupSeconds, nextBody) : null;
  return { warmup, measured: await runAutocannon(options, options.durationSeconds, nextBody) };
}

async function runAutocannon(
  options: LoadOptions,
  seconds: number,
  nextBody: () => Buffer,
): Promise<LoadResult> {
  const failureSamples: string[] = [];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: seconds,
    timeout: 30,
    headers,
    requests: [
      {
        method: "POST",
        path: options.path,
        setupRequest: (request) => ({ ...request, body: nextBody() }),
        onResponse: (status, body) => {
          if ((status < 200 || status > 299) && failureSamples.length < 3) {
            failureSamples.push(`${status} ${body.slice(0, 300)}`);
          }
        },
      },
    ],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats)) statusCodes[code] = stats.count;
  return {
    durationSeconds: result.duration,
    succeeded: result["2xx"],
    sent: result.requests.sent,
    requestsPerSecond: result["2xx"] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    failureSamples,
  };
}
