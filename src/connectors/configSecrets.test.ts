import assert from "node:assert/strict";
import { test } from "node:test";
import {
  joinSecrets,
  keepUnchangedSecrets,
  markWriteOnly,
  maskedConfig,
  secretMask,
  splitSecrets,
} from "./configSecrets.ts";

const paths = ["sasl.password", "api_token"];

test("secrets are split from the config, shown masked, and joined back for the connector", () => {
  const config = {
    brokers: ["b:9092"],
    sasl: { mechanism: "plain", username: "cqa", password: "hunter2" },
    api_token: "t0k",
  };
  const { publicConfig, secrets } = splitSecrets(config, paths);
  assert.deepEqual(publicConfig, { brokers: ["b:9092"], sasl: { mechanism: "plain", username: "cqa" } });
  assert.deepEqual(secrets, { "sasl.password": "hunter2", api_token: "t0k" });
  assert.ok(!JSON.stringify(maskedConfig(publicConfig, secrets)).includes("hunter2"));
  assert.equal(
    (maskedConfig(publicConfig, secrets)["sasl"] as Record<string, unknown>)["password"],
    secretMask,
  );
  assert.deepEqual(joinSecrets(publicConfig, secrets), config);
});

test("an edit that leaves a secret out, or sends the mask back, keeps the stored one; a new value replaces it", () => {
  const stored = { "sasl.password": "old", api_token: "t0k" };
  const kept = keepUnchangedSecrets({ sasl: { password: secretMask } }, stored, paths);
  assert.deepEqual(kept, { sasl: { password: "old" }, api_token: "t0k" });
  const replaced = keepUnchangedSecrets({ sasl: { password: "new" }, api_token: secretMask }, stored, paths);
  assert.deepEqual(replaced, { sasl: { password: "new" }, api_token: "t0k" });
});

test("secret fields are write-only in the published JSON Schema", () => {
  const schema = {
    type: "object",
    properties: {
      sasl: { type: "object", properties: { password: { type: "string" } } },
      api_token: { type: "string" },
    },
  };
  const marked = markWriteOnly(schema, paths) as { properties: Record<string, Record<string, unknown>> };
  assert.equal(marked.properties["api_token"]?.["writeOnly"], true);
  const sasl = marked.properties["sasl"] as { properties: Record<string, Record<string, unknown>> };
  assert.equal(sasl.properties["password"]?.["writeOnly"], true);
});
