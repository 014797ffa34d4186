import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature } from "../../src/delivery/webhookSender.ts";

/** A request a test peer received, with its exact raw body. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export interface LocalServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

type Handler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 (random port) that records every request. */
export async function startLocalServer(handler: Handler): Promise<LocalServer> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(received);
      Promise.resolve(handler(received, res)).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves fixed files by path: `{ "/t/1.txt": "Agent: hi" }`; other paths answer 404. */
export function startFileServer(files: Record<string, string | Buffer | { status: number; body?: string }>) {
  return startLocalServer((request, response) => {
    const entry = files[request.path.split("?")[0] ?? ""];
    if (entry === undefined) {
      response.statusCode = 404;
      response.end("not found");
    } else if (typeof entry === "object" && !Buffer.isBuffer(entry)) {
      response.statusCode = entry.status;
      response.end(entry.body ?? "");
    } else {
      response.statusCode = 200;
      response.end(entry);
    }
  });
}

export interface WebhookReceiver extends LocalServer {
  /** Parsed bodies of every request whose signature verified. */
  events(): { event: string; deliveryId: string; data: Record<string, unknown>; [key: string]: unknown }[];
  /** Requests whose X-CQA-Signature did not verify with the secret. */
  badSignatures(): ReceivedRequest[];
}

/**
 * A webhook receiver that checks every signature with `secret` and answers with the statuses in
 * `script` (one per request, the last one repeating; default 200).
 */
export async function startWebhookReceiver(
  secret: () => string,
  script: number[] = [200],
): Promise<WebhookReceiver> {
  let index = 0;
  const server = await startLocalServer((_request, response) => {
    const status = script[Math.min(index, script.length - 1)] ?? 200;
    index++;
    response.statusCode = status;
    response.end();
  });
  const verified = (r: ReceivedRequest) =>
    verifyWebhookSignature(secret(), r.body, r.headers["x-cqa-signature"] as string | undefined);
  return {
    ...server,
    events: () => server.requests.filter(verified).map((r) => JSON.parse(r.body)),
    badSignatures: () => server.requests.filter((r) => !verified(r)),
  };
}
