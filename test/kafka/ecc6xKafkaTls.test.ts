// ECC6x over Kafka with TLS, against a real broker started by this file with a CA made here (openssl
// and keytool): a SASL_SSL listener (PLAIN and SCRAM users) and an SSL listener that requires a client
// certificate. With the right CA events flow (over SCRAM-SHA-512 too); with another CA, none, a name the
// certificate does not carry, TLS off, or without / with a foreign client certificate, "test connection"
// says the TLS check failed and why, and a running consumer reports the same. The client key is sealed.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createTestCertificates } from "../../scripts/kafka/certificates.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { assertStopsAt, brokerForThisFile, eccEvent, eventually, uniqueName } from "./support.ts";

const certificatesDir = mkdtempSync(join(tmpdir(), "cqa-kafka-tls-"));
after(() => rmSync(certificatesDir, { recursive: true, force: true }));
const certificates = createTestCertificates(certificatesDir);
const { broker, tool } = await brokerForThisFile(
  { sasl: { users: { cqa: "cqa-secret" } }, tls: { ...certificates.broker, mutualTlsListener: true } },
  certificates.ca,
);
const mutualTls = broker.mutualTlsBootstrap!;

const topic = uniqueName("ecc-events");
const feedbackTopic = uniqueName("ecc-feedback");
await tool.createTopic(topic, 2);
await tool.createTopic(feedbackTopic, 1);

const scram512 = { mechanism: "SCRAM-SHA-512", username: "cqa", password: "cqa-secret" };

type Checks = { ok: boolean; checks: { name: string; ok: boolean; message: string }[] };

describe("ECC6x Kafka over TLS", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;
  const path = () => `/api/v1/accounts/${account.accountId}/integrations`;

  before(async () => {
    cqa = await startTestCqa({ loops: true });
    account = await cqa.createAccount();
  });
  after(async () => {
    await cqa?.stop();
  });

  const create = async (config: Record<string, unknown>, enabled = false) => {
    const answer = await cqa.request("POST", path(), {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: uniqueName("ecc6x-tls"),
        config: {
          brokers: [broker.bootstrap],
          topics: [topic],
          group_id: uniqueName("cqa"),
          consumer: { session_timeout_ms: 6000, max_wait_ms: 100 },
          ...config,
        },
        enabled,
      },
    });
    assert.equal(answer.status, 201, answer.text);
    return answer.body.data.integration_id as string;
  };
  const testConnection = async (id: string): Promise<Checks> => {
    const answer = await cqa.request("POST", `${path()}/${id}/test`, { apiKey: account.apiKey });
    assert.equal(answer.status, 200, answer.text);
    return answer.body.data as Checks;
  };
  const check = (result: Checks, name: string) => result.checks.find((c) => c.name === name);
  const storedCount = async (id: string) =>
    (await cqa.db.query("SELECT 1 FROM interactions WHERE integration_id = $1", [id])).rowCount;
  const produce = async (prefix: string, count: number) => {
    const calls = Array.from({ length: count }, (_, i) => `${uniqueName(prefix)}-${i}`);
    await tool.produce(calls.map((call) => ({ topic, key: call, value: JSON.stringify(eccEvent(call)) })));
    return calls;
  };

  test("SASL_SSL with the CA in tls.ca: the TLS check names the trusted certificate, and events flow over SCRAM-SHA-512 both ways", async () => {
    const id = await create({
      tls: { enabled: true, ca: certificates.ca },
      sasl: scram512,
      feedback_topic: feedbackTopic,
    });
    const result = await testConnection(id);
    assert.equal(result.ok, true, JSON.stringify(result.checks));
    assert.deepEqual(
      result.checks.map((c) => c.name),
      ["reach", "tls", "auth", "topic", "permissions"],
    );
    assert.match(
      check(result, "tls")?.message ?? "",
      /^TLSv1\.[23] with 127\.0\.0\.1:\d+: the brokers' certificate \(CN=localhost, issued by CN=cqa test CA, valid until \d{4}-\d\d-\d\d\) is trusted through tls\.ca and names '127\.0\.0\.1'$/,
    );
    assert.match(check(result, "auth")?.message ?? "", /Signed in as 'cqa' with SASL SCRAM-SHA-512 over TLS/);

    const shown = await cqa.request("GET", `${path()}/${id}`, { apiKey: account.apiKey });
    const enabled = await cqa.request("PUT", `${path()}/${id}`, {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: shown.body.data.name,
        config: shown.body.data.config,
        enabled: true,
      },
    });
    assert.equal(enabled.status, 200, enabled.text);
    await cqa.running.supervisor?.tick();
    const calls = await produce("TLS", 20);
    await eventually("20 events stored over SASL_SSL", async () => (await storedCount(id)) === 20);
    await eventually("their results produced to the feedback topic over TLS", async () => {
      const feedback = await tool.readAll(feedbackTopic);
      return calls.every((call) => feedback.some((r) => r.key === call));
    });
    await cqa.request("POST", `${path()}/${id}/pause`, { apiKey: account.apiKey });
    await cqa.running.supervisor?.tick();
  });

  test("a CA that did not sign the brokers' certificate, or none: the TLS check fails, saying the certificate is not trusted", async () => {
    for (const ca of [certificates.otherCa, null]) {
      const result = await testConnection(await create({ tls: { enabled: true, ca }, sasl: scram512 }));
      assertStopsAt(
        result,
        ["reach"],
        "tls",
        new RegExp(
          `^The brokers' certificate \\(CN=localhost, issued by CN=cqa test CA\\) is not trusted: it does not chain to a CA in ${ca ? "tls\\.ca" : "the system's CAs \\(tls\\.ca is empty\\)"} \\(SELF_SIGNED_CERT_IN_CHAIN\\)\\. Set tls\\.ca to the CA certificate`,
        ),
      );
    }
    // Not verifying is possible (to diagnose), and the check still says what is wrong.
    const unverified = await testConnection(
      await create({
        tls: { enabled: true, ca: certificates.otherCa, reject_unauthorized: false },
        sasl: scram512,
      }),
    );
    assert.equal(check(unverified, "tls")?.ok, true, JSON.stringify(unverified.checks));
    assert.match(
      check(unverified, "tls")?.message ?? "",
      /tls\.reject_unauthorized is off: NOT verified — .*not trusted/,
    );
  });

  test("a server name the certificate does not carry, and TLS off on a TLS listener: the TLS check says which", async () => {
    const misnamed = await testConnection(
      await create({
        tls: { enabled: true, ca: certificates.ca, server_name: "kafka.ecc.example" },
        sasl: scram512,
      }),
    );
    assert.equal(check(misnamed, "tls")?.ok, false, JSON.stringify(misnamed.checks));
    assert.match(
      check(misnamed, "tls")?.message ?? "",
      /does not name 'kafka\.ecc\.example' \(it names IP Address:127\.0\.0\.1, DNS:localhost\).*tls\.server_name/,
    );

    const plaintext = await testConnection(await create({ sasl: scram512 }));
    assert.equal(plaintext.ok, false);
    assert.equal(check(plaintext, "reach")?.ok, true, JSON.stringify(plaintext.checks));
    assert.equal(check(plaintext, "auth"), undefined, "not mistaken for refused credentials");
    assert.match(
      check(plaintext, "tls")?.message ?? "",
      /speaks TLS \(its certificate: CN=localhost, issued by CN=cqa test CA\) but tls\.enabled is off: set tls\.enabled to true/,
    );
  });

  test("mutual TLS: with the client certificate and key events flow; the key is sealed, never shown, kept across an edit", async () => {
    const tls = {
      enabled: true,
      ca: certificates.ca,
      cert: certificates.client.cert,
      key: certificates.client.key,
    };
    const id = await create({ brokers: [mutualTls], tls });
    const result = await testConnection(id);
    assert.equal(result.ok, true, JSON.stringify(result.checks));
    assert.match(
      check(result, "tls")?.message ?? "",
      /the brokers accept cqa's client certificate \(CN=cqa, issued by CN=cqa test CA\)/,
    );
    assert.match(check(result, "auth")?.message ?? "", /accept cqa's client certificate \(mutual TLS\)/);

    const shown = await cqa.request("GET", `${path()}/${id}`, { apiKey: account.apiKey });
    assert.equal(shown.body.data.config.tls.key, "********");
    assert.equal(shown.body.data.config.tls.cert, certificates.client.cert, "the certificate is not secret");
    assert.deepEqual(shown.body.data.secret_fields_set, ["tls.key"]);
    const row = await cqa.db.query<{ config: unknown; sealed_secrets: string }>(
      "SELECT config, sealed_secrets FROM integrations WHERE id = $1",
      [id],
    );
    const stored = JSON.stringify(row.rows[0]);
    assert.equal(stored.includes("PRIVATE KEY"), false, "the key is stored sealed only");
    assert.equal(stored.includes(certificates.client.key.split("\n")[1]!), false);

    // The dashboard sends the masked config back when enabling: the sealed key is kept.
    const enabled = await cqa.request("PUT", `${path()}/${id}`, {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: shown.body.data.name,
        config: shown.body.data.config,
        enabled: true,
      },
    });
    assert.equal(enabled.status, 200, enabled.text);
    await cqa.running.supervisor?.tick();
    await produce("MTLS", 10);
    await eventually("10 events stored over mutual TLS", async () => (await storedCount(id)) === 10);
    await cqa.request("POST", `${path()}/${id}/pause`, { apiKey: account.apiKey });
    await cqa.running.supervisor?.tick();

    // A key that is not the certificate's is refused when saved, before any connection.
    const mismatched = await cqa.request("POST", path(), {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: uniqueName("ecc6x-tls"),
        config: {
          brokers: [mutualTls],
          topics: [topic],
          tls: { ...tls, key: certificates.strangerClient.key },
        },
      },
    });
    assert.equal(mismatched.status, 400);
    assert.match(mismatched.body.message, /tls\.key is not the private key of tls\.cert/);
  });

  test("mutual TLS without a client certificate, or with one another CA signed: refused, and said so by the test and by the running consumer", async () => {
    const none = await create({ brokers: [mutualTls], tls: { enabled: true, ca: certificates.ca } }, true);
    const result = await testConnection(none);
    assertStopsAt(
      result,
      ["reach"],
      "tls",
      /^The brokers require a client certificate \(mutual TLS\) and cqa sent none \(the broker answered '[a-z ]+'\): set tls\.cert and tls\.key/,
    );
    // The consumer (enabled) cannot connect either, and its status tells the same reason.
    await cqa.running.supervisor?.tick();
    await eventually(
      "the consumer's status names the missing client certificate",
      async () => {
        const status = await cqa.request("GET", `${path()}/${none}/status`, { apiKey: account.apiKey });
        return /require a client certificate/.test(status.body.data.last_error ?? "");
      },
      60_000,
    );
    await cqa.request("POST", `${path()}/${none}/pause`, { apiKey: account.apiKey });
    await cqa.running.supervisor?.tick();

    const stranger = await testConnection(
      await create({
        brokers: [mutualTls],
        tls: {
          enabled: true,
          ca: certificates.ca,
          cert: certificates.strangerClient.cert,
          key: certificates.strangerClient.key,
        },
      }),
    );
    assert.equal(check(stranger, "tls")?.ok, false, JSON.stringify(stranger.checks));
    assert.match(
      check(stranger, "tls")?.message ?? "",
      /^The brokers refused cqa's client certificate \(CN=stranger, issued by CN=Some other CA\).*brokers' truststore/,
    );
  });
});
