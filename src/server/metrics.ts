import type { Database } from "../storage/db.ts";
import { queueDepth } from "../storage/jobQueue.ts";
import { outboxDepth } from "../storage/outbox.ts";
import { kafkaPartitionLag } from "../storage/repositories/kafkaOffsets.ts";

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Prometheus metrics: request counters kept in process, pipeline gauges read from the database. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const durationKey = `method="${method}",route="${route}"`;
    let histogram = this.#durations.get(durationKey);
    if (!histogram) {
      histogram = { buckets: durationBuckets.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(durationKey, histogram);
    }
    durationBuckets.forEach((bound, i) => {
      if (seconds <= bound) histogram.buckets[i]!++;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  async render(db: Database): Promise<string> {
    const lines: string[] = [];
    lines.push(
      "# HELP cqa_http_requests_total HTTP requests by route and status.",
      "# TYPE cqa_http_requests_total counter",
    );
    for (const [labels, value] of this.#requests) lines.push(`cqa_http_requests_total{${labels}} ${value}`);
    lines.push(
      "# HELP cqa_http_request_duration_seconds Request durations.",
      "# TYPE cqa_http_request_duration_seconds histogram",
    );
    for (const [labels, h] of this.#durations) {
      for (const [i, bound] of durationBuckets.entries()) {
        lines.push(`cqa_http_request_duration_seconds_bucket{${labels},le="${bound}"} ${h.buckets[i]}`);
      }
      lines.push(`cqa_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      lines.push(
        `cqa_http_request_duration_seconds_sum{${labels}} ${h.sum}`,
        `cqa_http_request_duration_seconds_count{${labels}} ${h.count}`,
      );
    }
    lines.push("# HELP cqa_jobs Background jobs by kind and status.", "# TYPE cqa_jobs gauge");
    for (const row of await queueDepth(db))
      lines.push(`cqa_jobs{kind="${row.kind}",status="${row.status}"} ${row.count}`);
    lines.push(
      "# HELP cqa_outbox_messages Undelivered outbound messages.",
      "# TYPE cqa_outbox_messages gauge",
    );
    for (const row of await outboxDepth(db))
      lines.push(`cqa_outbox_messages{channel="${row.channel}",status="${row.status}"} ${row.count}`);
    const recent = await db.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM interactions WHERE created_at > now() - interval '24 hours' GROUP BY status",
    );
    lines.push(
      "# HELP cqa_interactions_24h Interactions ingested in the last 24 hours, by status.",
      "# TYPE cqa_interactions_24h gauge",
    );
    for (const row of recent.rows) lines.push(`cqa_interactions_24h{status="${row.status}"} ${row.n}`);
    const latency = await db.query<{ p50: number | null; p95: number | null; n: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.completed_at - i.created_at)) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM a.completed_at - i.created_at)) AS p95,
              count(*)::int AS n
       FROM analyses a JOIN interactions i ON i.id = a.interaction_id
       WHERE a.status = 'completed' AND a.completed_at > now() - interval '1 hour'`,
    );
    const l = latency.rows[0];
    lines.push(
      "# HELP cqa_analysis_latency_seconds Ingest to completed analysis, last hour.",
      "# TYPE cqa_analysis_latency_seconds gauge",
    );
    lines.push(
      `cqa_analysis_latency_seconds{quantile="0.5"} ${l?.p50 ?? 0}`,
      `cqa_analysis_latency_seconds{quantile="0.95"} ${l?.p95 ?? 0}`,
    );
    lines.push(`cqa_analyses_completed_last_hour ${l?.n ?? 0}`);
    lines.push(
      "# HELP cqa_kafka_consumer_lag Events in a Kafka partition not yet stored by cqa (end offset - stored offset), as last measured.",
      "# TYPE cqa_kafka_consumer_lag gauge",
    );
    for (const row of await kafkaPartitionLag(db))
      lines.push(
        `cqa_kafka_consumer_lag{integration_id="${row.integrationId}",topic="${row.topic}",partition="${row.partition}"} ${row.lag}`,
      );
    return `${lines.join("\n")}\n`;
  }
}
