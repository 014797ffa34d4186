import assert from "node:assert/strict";
import { test } from "node:test";
import { configFields, configReferenceMarkdown } from "../../src/connectors/configReference.ts";
import { createConnectorRegistry } from "../../src/connectors/registry.ts";
import { testFeedConnector } from "../support/testConnectors.ts";

test("a kind's config reference is generated from its schema: fields, types, defaults, secrets", () => {
  const registry = createConnectorRegistry([testFeedConnector]);
  const entry = registry.catalogue()[0]!;
  const fields = configFields(entry);
  assert.deepEqual(
    fields.map((f) => [f.path, f.required, f.secret]),
    [
      ["url", true, false],
      ["token", true, true],
      ["page_size", false, false],
    ],
  );
  assert.equal(fields.find((f) => f.path === "page_size")?.default, 50);
  const markdown = configReferenceMarkdown(testFeedConnector, entry);
  assert.match(markdown, /\| `token` \| string \(password\) \| yes \| {2}\| \*\*secret\*\* \(write-only\)/);
});
