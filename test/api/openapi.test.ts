// Standard API conformance — the OpenAPI 3.1 document at /api/v1/openapi.json describes every
// published operation, with the ingest item schema generated from the validator.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestCqa, type TestCqa } from "../support/testCqa.ts";

const base = "/api/v1/accounts/{account_id}";

/** The published Standard API: path, method, and the statuses its reference documents. */
const publishedOperations: [string, string, string[]][] = [
  [`${base}/ingress/interactions`, "post", ["201", "400", "401", "409", "429"]],
  [`${base}/ingress/interactions/batch`, "post", ["202", "400", "401", "429"]],
  [`${base}/ingress/interactions/files`, "post", ["202", "400", "401", "429"]],
  [`${base}/ingress/interactions/{interaction_identifier}`, "get", ["200", "401", "404"]],
  [`${base}/ingress/interactions/batch/{id}`, "get", ["200", "401", "404"]],
  [`${base}/analyses`, "post", ["200", "400", "401"]],
  [`${base}/analyses/{analysis_id}`, "get", ["200", "401", "404"]],
];

const itemFields = [
  "external_interaction_id",
  "channel_type",
  "source",
  "language",
  "interaction_start_time",
  "duration_seconds",
  "audio_format",
  "callback_url",
  "audio_url",
  "transcript_url",
  "transcript_text",
  "pii_redacted",
  "metadata",
];

type Json = Record<string, unknown>;

describe("the OpenAPI document", () => {
  let cqa: TestCqa;
  // biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON
  let doc: any;

  before(async () => {
    cqa = await startTestCqa();
    const response = await cqa.request("GET", "/api/v1/openapi.json");
    assert.equal(response.status, 200, "served without credentials");
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    doc = response.body;
  });
  after(async () => {
    await cqa?.stop();
  });

  test("is an OpenAPI 3.1 document with an API-key scheme in the X-API-Key header", () => {
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(typeof doc.info.title, "string");
    assert.equal(typeof doc.info.version, "string");
    assert.deepEqual(doc.components.securitySchemes.apiKey, {
      type: "apiKey",
      in: "header",
      name: "X-API-Key",
    });
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    for (const code of [
      "VALIDATION_ERROR",
      "INVALID_JSON",
      "INVALID_REQUEST",
      "UNAUTHORIZED",
      "NOT_FOUND",
      "DUPLICATE",
      "RATE_LIMIT_EXCEEDED",
      "TOO_MANY_JOBS",
      "CONVERSATION_CAP_EXCEEDED",
      "INTERNAL_ERROR",
    ]) {
      assert.ok(codes.includes(code), code);
    }
  });

  test("lists every published operation with its path parameters, API-key security and statuses", () => {
    for (const [path, method, statuses] of publishedOperations) {
      const operation = doc.paths[path]?.[method];
      assert.ok(operation, `${method.toUpperCase()} ${path} is documented`);
      assert.equal(typeof operation.operationId, "string");
      assert.ok(
        operation.security.some((s: Json) => "apiKey" in s),
        `${path} takes the API key`,
      );
      for (const status of statuses)
        assert.ok(status in operation.responses, `${method} ${path} documents ${status}`);
      const declared = operation.parameters
        .filter((p: Json) => p["in"] === "path")
        .map((p: Json) => p["name"]);
      const inTemplate = [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
      assert.deepEqual(declared, inTemplate, `${path} declares its path parameters`);
      for (const parameter of operation.parameters.filter((p: Json) => p["in"] === "path")) {
        assert.equal(parameter.required, true);
      }
    }
  });

  test("documents the query parameters of tracking (page, size) and of the analysis list (limit, offset)", () => {
    const queryOf = (path: string, method: string) =>
      doc.paths[path][method].parameters.filter((p: Json) => p["in"] === "query").map((p: Json) => p["name"]);
    assert.deepEqual(queryOf(`${base}/ingress/interactions/batch/{id}`, "get").sort(), ["page", "size"]);
    assert.deepEqual(queryOf(`${base}/analyses`, "post").sort(), ["limit", "offset"]);
  });

  test("the ingest body lists every item field, external_interaction_id and channel_type required, JSON or multipart", () => {
    const body = doc.paths[`${base}/ingress/interactions`].post.requestBody;
    const schema = body.content["application/json"].schema;
    assert.deepEqual(Object.keys(schema.properties).sort(), [...itemFields].sort());
    assert.deepEqual([...schema.required].sort(), ["channel_type", "external_interaction_id"]);
    assert.match(JSON.stringify(schema.properties.metadata), /"maxLength":128/);
    const multipart = body.content["multipart/form-data"].schema;
    assert.deepEqual(multipart.properties.audio, { type: "string", format: "binary" });

    const batch =
      doc.paths[`${base}/ingress/interactions/batch`].post.requestBody.content["application/json"].schema;
    assert.equal(batch.properties.interactions.minItems, 1);
    assert.equal(batch.properties.interactions.maxItems, 100);
    assert.deepEqual([...batch.properties.interactions.items.required].sort(), [
      "channel_type",
      "external_interaction_id",
    ]);

    const files =
      doc.paths[`${base}/ingress/interactions/files`].post.requestBody.content["application/json"].schema;
    for (const field of ["file_url", "format"]) assert.ok(files.required.includes(field), field);
    for (const field of ["source", "pii_redacted", "callback_url", "column_mapping", "metadata"]) {
      assert.ok(field in files.properties, field);
    }

    const list = doc.paths[`${base}/analyses`].post.requestBody.content["application/json"].schema;
    assert.deepEqual(list.required, ["other_filters"]);
    for (const field of ["other_filters", "quality_profile_uid", "metadata_filter_group"])
      assert.ok(field in list.properties);
    const text = JSON.stringify(list);
    for (const operator of ["greater_than_or_equal", "less_than_or_equal", "not_equals", "contains", "in"]) {
      assert.ok(text.includes(`"${operator}"`), operator);
    }
  });

  test("every $ref points at something in the document and operation ids are unique", () => {
    const refs: string[] = [];
    JSON.stringify(doc, (key, value) => {
      if (key === "$ref") refs.push(value);
      return value;
    });
    assert.ok(refs.length > 0);
    for (const ref of new Set(refs)) {
      assert.ok(ref.startsWith("#/"), ref);
      let target = doc;
      for (const part of ref.slice(2).split("/"))
        target = target?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      assert.ok(target !== undefined, `${ref} resolves`);
    }
    const ids = Object.values(doc.paths).flatMap((methods) =>
      Object.values(methods as Record<string, { operationId: string }>).map((o) => o.operationId),
    );
    assert.equal(new Set(ids).size, ids.length);
  });
});
