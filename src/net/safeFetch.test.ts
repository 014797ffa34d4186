import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { type AppError, isAppError } from "../core/errors.ts";
import { parseFetchAllowList } from "./allowList.ts";
import { fetchFailureKind, type HostResolver, safeFetch, safeFetchStream } from "./safeFetch.ts";

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

interface TestServer {
  port: number;
  origin: string;
  requests: SeenRequest[];
  connections: number;
}

const servers: Array<ReturnType<typeof createServer>> = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** A real HTTP server on 127.0.0.1 that records what it was asked. */
async function startServer(
  handle: (request: SeenRequest, response: ServerResponse) => void,
): Promise<TestServer> {
  const state: TestServer = { port: 0, origin: "", requests: [], connections: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const seen = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      state.requests.push(seen);
      handle(seen, response);
    });
  });
  server.on("connection", () => {
    state.connections++;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

const nothingAllowed = parseFetchAllowList(undefined);
const loopbackAllowed = parseFetchAllowList("127.0.0.1/8");
const resolveToLoopback: HostResolver = async () => ["127.0.0.1"];

function fetchError(code: AppError["code"], check: (error: AppError) => void = () => {}) {
  return (error: unknown): boolean => {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  };
}

const hello = await startServer((_request, response) => response.end("hello"));

test("a loopback address is refused when CQA_FETCH_ALLOW does not list it, before any request is sent", async () => {
  await assert.rejects(
    safeFetch(`${hello.origin}/x`, { allow: nothingAllowed }),
    fetchError("FETCH_REFUSED", (error) => {
      assert.equal(
        error.message,
        `Refused to fetch ${hello.origin}/x: 127.0.0.1 is a private/loopback address. If this host is yours, allow it with CQA_FETCH_ALLOW (e.g. CQA_FETCH_ALLOW=127.0.0.1/8)`,
      );
      assert.equal(error.retryable, false);
    }),
  );
  assert.equal(hello.requests.length, 0);
});

test("a loopback address is fetched when CQA_FETCH_ALLOW lists its range", async () => {
  const response = await safeFetch(`${hello.origin}/x`, { allow: loopbackAllowed });
  assert.equal(response.status, 200);
  assert.equal(response.body.toString(), "hello");
  assert.equal(response.url, `${hello.origin}/x`);
  assert.equal(response.headers["content-length"], "5");
});

test("a host name listed in CQA_FETCH_ALLOW may resolve to a private address", async () => {
  const response = await safeFetch(`http://localhost:${hello.port}/`, {
    allow: parseFetchAllowList("localhost"),
  });
  assert.equal(response.body.toString(), "hello");
});

test("a harmless-looking host name that resolves to loopback is refused at connection time", async () => {
  const before = hello.requests.length;
  await assert.rejects(
    safeFetch(`http://files.example.com:${hello.port}/a.wav`, {
      allow: nothingAllowed,
      resolveHost: resolveToLoopback,
    }),
    fetchError("FETCH_REFUSED", (error) => {
      assert.match(
        error.message,
        /files\.example\.com resolves to 127\.0\.0\.1, a private\/loopback address/,
      );
      assert.match(error.message, /CQA_FETCH_ALLOW=files\.example\.com/);
    }),
  );
  await assert.rejects(
    safeFetch(`http://localhost:${hello.port}/`, { allow: nothingAllowed }),
    fetchError("FETCH_REFUSED"),
  );
  assert.equal(hello.requests.length, before);

  // The same name is fetched, from the address it resolved to, once that address is allowed.
  const allowed = await safeFetch(`http://files.example.com:${hello.port}/a.wav`, {
    allow: loopbackAllowed,
    resolveHost: resolveToLoopback,
  });
  assert.equal(allowed.body.toString(), "hello");
  assert.equal(hello.requests.at(-1)?.headers.host, `files.example.com:${hello.port}`);
});

test("a kept-alive connection opened under one allow list is not reused by a fetch that refuses it", async () => {
  const server = await startServer((_request, response) => response.end("secret"));
  const url = `http://localhost:${server.port}/`;
  assert.equal((await safeFetch(url, { allow: parseFetchAllowList("localhost") })).body.toString(), "secret");
  await assert.rejects(safeFetch(url, { allow: nothingAllowed }), fetchError("FETCH_REFUSED"));
  assert.equal(server.requests.length, 1);
  assert.equal(server.connections, 1, "the refused fetch opened no connection of its own");
  // The refusal closed that connection; an allowed fetch simply opens a new one.
  assert.equal((await safeFetch(url, { allow: parseFetchAllowList("localhost") })).body.toString(), "secret");
});

test("a redirect from an allowed host to a private address that is not allowed is refused", async () => {
  const inside = await startServer((_request, response) => response.end("metadata"));
  const redirector = await startServer((_request, response) => {
    response.writeHead(302, { location: `${inside.origin}/latest/meta-data` }).end();
  });
  await assert.rejects(
    safeFetch(`http://files.example.com:${redirector.port}/a.wav`, {
      allow: parseFetchAllowList("files.example.com"),
      resolveHost: resolveToLoopback,
    }),
    fetchError("FETCH_REFUSED", (error) => {
      assert.match(
        error.message,
        /^Refused to fetch http:\/\/127\.0\.0\.1:\d+\/latest\/meta-data \(redirected from/,
      );
    }),
  );
  assert.equal(redirector.requests.length, 1);
  assert.equal(inside.requests.length, 0);
});

test("redirects are followed up to maxRedirects, then the fetch fails for good", async () => {
  const loop = await startServer((request, response) => {
    const hop = Number(request.url.split("/").at(-1));
    if (hop < 3) response.writeHead(301, { location: `/hop/${hop + 1}` }).end();
    else response.end(`arrived after ${hop}`);
  });
  const followed = await safeFetch(`${loop.origin}/hop/0`, { allow: loopbackAllowed, maxRedirects: 3 });
  assert.equal(followed.body.toString(), "arrived after 3");
  assert.equal(followed.url, `${loop.origin}/hop/3`);

  await assert.rejects(
    safeFetch(`${loop.origin}/hop/0`, { allow: loopbackAllowed, maxRedirects: 2 }),
    fetchError("FETCH_FAILED", (error) => {
      assert.equal(error.message, `Fetching ${loop.origin}/hop/0 was redirected more than 2 times`);
      assert.equal(error.retryable, false);
      assert.equal(fetchFailureKind(error), "too_many_redirects");
    }),
  );

  const notFollowed = await safeFetch(`${loop.origin}/hop/0`, { allow: loopbackAllowed, maxRedirects: 0 });
  assert.equal(notFollowed.status, 301);
  assert.equal(notFollowed.headers.location, "/hop/1");
});

test("a 303 turns a POST into a GET without body and credentials stay with the first server", async () => {
  const target = await startServer((_request, response) => response.end("done"));
  const origin = await startServer((request, response) => {
    if (request.url === "/keep") response.writeHead(307, { location: "/kept" }).end();
    else if (request.url === "/kept") response.end("kept");
    else response.writeHead(303, { location: `http://localhost:${target.port}/result` }).end();
  });
  const allow = parseFetchAllowList("127.0.0.1/8, localhost");
  const headers = { Authorization: "Bearer s3cret", cookie: "session=1", "Content-Type": "application/json" };

  const moved = await safeFetch(`${origin.origin}/submit`, {
    allow,
    method: "POST",
    headers,
    body: '{"a":1}',
  });
  assert.equal(moved.body.toString(), "done");
  const [seen] = target.requests;
  assert.equal(seen?.method, "GET");
  assert.equal(seen?.body, "");
  assert.equal(seen?.headers.authorization, undefined);
  assert.equal(seen?.headers.cookie, undefined);
  assert.equal(seen?.headers["content-type"], undefined);

  // A 307 on the same server repeats the request as it was.
  await safeFetch(`${origin.origin}/keep`, { allow, method: "POST", headers, body: '{"a":1}' });
  const repeated = origin.requests.at(-1);
  assert.equal(repeated?.url, "/kept");
  assert.equal(repeated?.method, "POST");
  assert.equal(repeated?.body, '{"a":1}');
  assert.equal(repeated?.headers.authorization, "Bearer s3cret");
});

test("a server that never answers fails the fetch after timeoutMs, as retryable", async () => {
  const silent = await startServer(() => {});
  await assert.rejects(
    safeFetch(`${silent.origin}/slow`, { allow: loopbackAllowed, timeoutMs: 300 }),
    fetchError("FETCH_FAILED", (error) => {
      assert.equal(error.message, `No answer from ${silent.origin}/slow within 0.3 s`);
      assert.equal(error.retryable, true);
      assert.equal(fetchFailureKind(error), "timeout");
    }),
  );
});

test("the timeout covers the body too: a download that stalls midway fails", async () => {
  const stalling = await startServer((_request, response) => {
    response.writeHead(200, { "content-type": "audio/wav" });
    response.write("RIFF");
  });
  const response = await safeFetchStream(`${stalling.origin}/a.wav`, {
    allow: loopbackAllowed,
    timeoutMs: 300,
  });
  assert.equal(response.status, 200);
  await assert.rejects(
    response.body.toArray(),
    fetchError("FETCH_FAILED", (error) => {
      assert.equal(fetchFailureKind(error), "timeout");
    }),
  );
});

test("a body announced larger than maxBytes fails before it is read", async () => {
  const huge = await startServer((_request, response) => {
    response.writeHead(200, { "content-length": "5000000" });
    response.write("x"); // and then nothing: the fetch must not wait for the rest
  });
  // The kind is "too_large", not "timeout": the fetch failed on the announced size, without waiting.
  await assert.rejects(
    safeFetch(`${huge.origin}/big.csv`, { allow: loopbackAllowed, maxBytes: 1000 }),
    fetchError("FETCH_FAILED", (error) => {
      assert.equal(
        error.message,
        `${huge.origin}/big.csv announces 5000000 bytes, over the limit of 1000 bytes`,
      );
      assert.equal(error.retryable, false);
      assert.equal(fetchFailureKind(error), "too_large");
    }),
  );
});

test("a HEAD answer may announce a large body, since none is sent", async () => {
  const large = await startServer((_request, response) => {
    response.writeHead(200, { "content-length": "5000000" }).end();
  });
  const response = await safeFetch(`${large.origin}/big.wav`, {
    allow: loopbackAllowed,
    method: "HEAD",
    maxBytes: 1000,
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers["content-length"], "5000000");
  assert.equal(response.body.length, 0);
});

test("a chunked body that grows past maxBytes fails, whole or streamed", async () => {
  const chunked = await startServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/csv" });
    for (let i = 0; i < 10; i++) response.write("a".repeat(500));
    response.end();
  });
  const tooLarge = fetchError("FETCH_FAILED", (error) => {
    assert.equal(
      error.message,
      `${chunked.origin}/rows.csv sent more than 2000 bytes, over the limit of 2000 bytes`,
    );
    assert.equal(error.retryable, false);
  });
  await assert.rejects(
    safeFetch(`${chunked.origin}/rows.csv`, { allow: loopbackAllowed, maxBytes: 2000 }),
    tooLarge,
  );
  const streamed = await safeFetchStream(`${chunked.origin}/rows.csv`, {
    allow: loopbackAllowed,
    maxBytes: 2000,
  });
  await assert.rejects(streamed.body.toArray(), tooLarge);

  const fits = await safeFetch(`${chunked.origin}/rows.csv`, { allow: loopbackAllowed, maxBytes: 5000 });
  assert.equal(fits.body.length, 5000);
});

test("an HTTP error status is returned with its body, not thrown", async () => {
  const missing = await startServer((_request, response) => {
    response.writeHead(404, { "content-type": "text/plain" }).end("no such recording");
  });
  const response = await safeFetch(`${missing.origin}/gone.wav`, { allow: loopbackAllowed });
  assert.equal(response.status, 404);
  assert.equal(response.body.toString(), "no such recording");
  assert.equal(response.headers["content-type"], "text/plain");
});

test("a connection refused by the peer is a retryable FETCH_FAILED naming the URL", async () => {
  const closed = await startServer(() => {});
  const port = closed.port;
  const server = servers.at(-1)!;
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(
    safeFetch(`http://127.0.0.1:${port}/a?token=secret`, { allow: loopbackAllowed }),
    fetchError("FETCH_FAILED", (error) => {
      assert.ok(error.message.startsWith(`Could not fetch http://127.0.0.1:${port}/a?…: `), error.message);
      assert.match(error.message, /ECONNREFUSED/);
      assert.doesNotMatch(error.message, /secret/, "the query string may carry a signature");
      assert.equal(error.retryable, true);
    }),
  );
});

test("only http and https URLs are fetched", async () => {
  await assert.rejects(
    safeFetch("s3://bucket/calls.csv", { allow: loopbackAllowed }),
    fetchError("FETCH_REFUSED", (error) => {
      assert.match(
        error.message,
        /s3:\/\/ URLs need the account's S3 credentials and are not supported for this fetch yet/,
      );
    }),
  );
  for (const url of ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:6379/_INFO"]) {
    await assert.rejects(
      safeFetch(url, { allow: loopbackAllowed }),
      fetchError("FETCH_REFUSED", (error) =>
        assert.match(error.message, /only http:\/\/ and https:\/\/ URLs/),
      ),
    );
  }
  await assert.rejects(safeFetch("not a url", { allow: loopbackAllowed }), fetchError("FETCH_REFUSED"));
});

test("a redirect to a non-http scheme is refused", async () => {
  const redirector = await startServer((_request, response) => {
    response.writeHead(302, { location: "file:///etc/passwd" }).end();
  });
  await assert.rejects(
    safeFetch(`${redirector.origin}/`, { allow: loopbackAllowed }),
    fetchError("FETCH_REFUSED", (error) => assert.match(error.message, /only http:\/\/ and https:\/\//)),
  );
});

test("a fetch cancelled by the caller stops with FETCH_FAILED", async () => {
  const silent = await startServer(() => {});
  const controller = new AbortController();
  const pending = safeFetch(`${silent.origin}/`, { allow: loopbackAllowed, signal: controller.signal });
  setTimeout(() => controller.abort(new Error("shutting down")), 20);
  await assert.rejects(
    pending,
    fetchError("FETCH_FAILED", (error) => assert.equal(fetchFailureKind(error), "cancelled")),
  );
});
