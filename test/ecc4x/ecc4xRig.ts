// A cqa with its SFTP endpoint on a free port, an account, an SFTP user of it and a simulated Voice Log
// API — what the ECC4x tests share.
import assert from "node:assert/strict";
import SftpClient from "ssh2-sftp-client";
import type { Clock } from "../../src/core/clock.ts";
import type { TestDatabase } from "../../src/storage/testing.ts";
import {
  type SftpTarget,
  startVoiceLogSimulator,
  type VoiceLogSimulator,
} from "../support/ecc4xSimulators.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

export const sftpPassword = "vla-uploader-password-1";

export interface Ecc4xRig {
  cqa: TestCqa;
  account: CreatedAccount;
  voiceLog: VoiceLogSimulator;
  /** The account's SFTP login (password). */
  target: SftpTarget;
  /** The API as the account's admin key. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  api(method: string, suffix: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** Creates an ecc4x_sftp integration reading `/` with the simulator's Voice Log API. */
  createSftpIntegration(overrides?: Record<string, unknown>, name?: string): Promise<string>;
  sftpClient(target?: SftpTarget): Promise<SftpClient>;
  /** Interactions of the account by status. */
  statuses(): Promise<Record<string, number>>;
  /** Waits (polling, up to `ms`) until `check` holds. */
  until(what: string, check: () => Promise<boolean>, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

let uniqueUser = 0;

export async function startEcc4xRig(
  options: { backend?: TestDatabase; clock?: Clock; loops?: boolean; username?: string } = {},
): Promise<Ecc4xRig> {
  const cqa = await startTestCqa({
    env: { CQA_SFTP_PORT: "0", CQA_TRANSCRIBER: "none" },
    loops: options.loops ?? true,
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
  const voiceLog = await startVoiceLogSimulator();
  const username = options.username ?? `vla-${process.pid}-${uniqueUser++}`;
  const api = (method: string, suffix: string, body?: unknown) =>
    cqa.request(method, `/api/v1/accounts/${account.accountId}${suffix}`, {
      apiKey: account.apiKey,
      ...(body === undefined ? {} : { body }),
    });
  const user = await api("POST", "/sftp-users", { username, password: sftpPassword });
  assert.equal(user.status, 201, user.text);
  const sftp = cqa.running.sftp!;
  const target: SftpTarget = {
    host: "127.0.0.1",
    port: sftp.port,
    username,
    password: sftpPassword,
    hostKey: sftp.hostPublicKey,
  };
  const clients: SftpClient[] = [];
  return {
    cqa,
    account,
    voiceLog,
    target,
    api,
    async createSftpIntegration(overrides = {}, name = "VLA reports") {
      const created = await api("POST", "/integrations", {
        kind: "ecc4x_sftp",
        name,
        config: { voice_log: voiceLog.config(), ...overrides },
      });
      assert.equal(created.status, 201, created.text);
      return created.body.data.integration_id as string;
    },
    async sftpClient(as = target) {
      const client = new SftpClient();
      await client.connect({
        host: as.host,
        port: as.port,
        username: as.username,
        ...(as.password ? { password: as.password } : {}),
        hostVerifier: (key: Buffer) => key.toString("base64") === as.hostKey.split(" ")[1],
      });
      clients.push(client);
      return client;
    },
    async statuses() {
      const rows = await cqa.db.query<{ status: string; n: string }>(
        "SELECT status, count(*) AS n FROM interactions WHERE account_id = $1 GROUP BY status",
        [account.accountId],
      );
      return Object.fromEntries(rows.rows.map((r) => [r.status, Number(r.n)]));
    },
    async until(what, check, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(`timed out waiting until ${what}`);
    },
    async stop() {
      for (const client of clients) await client.end().catch(() => {});
      await cqa.stop();
      await voiceLog.close();
    },
  };
}
