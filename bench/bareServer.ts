// The reference server of the ingest benchmark: the same HTTP framework as cqa (Hono on
// @hono/node-server) with the same routes, each parsing the same JSON body and answering with a
// small envelope — everything an ingest request costs except cqa's own work. Run as a child
// process by bench/run.ts; prints "listening on <url>" once it accepts connections.
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
const base = "/api/v1/accounts/:account_id/ingress/interactions";

app.post(base, async (c) => {
  const item = (await c.req.json()) as { external_interaction_id?: unknown };
  const requestId = randomUUID();
  return c.json(
    {
      status: 201,
      request_id: requestId,
      data: {
        interaction_id: randomUUID(),
        external_interaction_id: item.external_interaction_id,
        status: "queued",
      },
    },
    201,
  );
});

app.post(`${base}/batch`, async (c) => {
  const body = (await c.req.json()) as { interactions?: unknown[] };
  return c.json(
    {
      status: 202,
      request_id: randomUUID(),
      data: { id: randomUUID(), type: "batch", status: "pending", items: body.interactions?.length ?? 0 },
    },
    202,
  );
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
