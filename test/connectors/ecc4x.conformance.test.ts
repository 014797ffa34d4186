// The ECC4x connectors pass the conformance suite against simulators of the ECC4x peers (the real ones
// are proprietary): reports uploaded over SFTP by a simulated VLA module with a real SFTP client
// (ssh2-sftp-client), and the App Server API's paged call list.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SftpClient from "ssh2-sftp-client";
import { freePort } from "../reliability/support/cqaProcess.ts";
import {
  simulatedCall,
  startAppServerSimulator,
  startVoiceLogSimulator,
  vlaReport,
} from "../support/ecc4xSimulators.ts";
import { type ConformancePeer, connectorConformance } from "./conformance.ts";

const sftpPort = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), "cqa-ecc4x-conformance-"));
let peerNumber = 0;

/** The VLA module: each `produce` uploads a report; uploads wait (and retry) while cqa is down. */
async function vlaPeer(): Promise<ConformancePeer> {
  const voiceLog = await startVoiceLogSimulator();
  const prefix = `VLA${peerNumber++}-`;
  const login = { username: `conformance-${process.pid}-${peerNumber}`, password: "conformance-uploader-1" };
  let next = 0;
  let reports = 0;
  let uploads: Promise<void> = Promise.resolve();
  const upload = (content: string) => {
    const name = `/vla_${prefix}${reports++}.csv`;
    uploads = uploads.then(async () => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const client = new SftpClient();
        try {
          await client.connect({ host: "127.0.0.1", port: sftpPort, ...login, readyTimeout: 3_000 });
          await client.put(Buffer.from(content), name);
          await client.end();
          return;
        } catch {
          await client.end().catch(() => {});
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    });
  };
  return {
    kind: "ecc4x_sftp",
    config: () => ({ voice_log: voiceLog.config() }),
    async prepare(account) {
      const created = await account.request(
        "POST",
        `/api/v1/accounts/${account.accountId}/sftp-users`,
        login,
      );
      if (created.status !== 201) throw new Error(`SFTP user: ${created.text}`);
    },
    async produce(count) {
      const calls = Array.from({ length: count }, () => simulatedCall(prefix, next++));
      voiceLog.publish(...calls.map((c) => c.call_sid));
      upload(vlaReport(calls));
      return calls.map((c) => c.call_sid);
    },
    async producePoison() {
      upload(
        vlaReport(
          [],
          [
            `${prefix}POISON,agent-1,Ann,retention,general,inbound,+911,2026-04-01 10:00:00,60,resolved,T-1,surplus`,
          ],
        ),
      );
    },
    // An outage of the Voice Log API: reports are still read; recordings are fetched once it is back.
    async interrupt() {
      voiceLog.setDown(true);
    },
    async restore() {
      voiceLog.setDown(false);
    },
    async close() {
      await uploads;
      await voiceLog.close();
    },
  };
}

/** The App Server API with the Voice Log API beside it. */
async function appServerPeer(): Promise<ConformancePeer> {
  const appServer = await startAppServerSimulator();
  const voiceLog = await startVoiceLogSimulator();
  const prefix = `APP${peerNumber++}-`;
  let next = 0;
  return {
    kind: "ecc4x_app_server",
    config: () =>
      appServer.config({ voice_log: voiceLog.config(), paging: { style: "offset", page_size: 7 } }),
    async produce(count) {
      const calls = Array.from({ length: count }, () => simulatedCall(prefix, next++));
      voiceLog.publish(...calls.map((c) => c.call_sid));
      appServer.add(...calls);
      return calls.map((c) => c.call_sid);
    },
    async producePoison() {
      // A row without a call SID, between the others.
      appServer.addRaw({ ...simulatedCall(prefix, next++), call_sid: "" });
    },
    async interrupt() {
      appServer.failNext(1_000_000);
    },
    async restore() {
      appServer.failNext(0);
    },
    async close() {
      await appServer.close();
      await voiceLog.close();
    },
  };
}

const env = { CQA_TRANSCRIBER: "none" };
connectorConformance("ECC4x VLA report over SFTP", vlaPeer, {
  env: { ...env, CQA_SFTP_PORT: String(sftpPort), CQA_DATA_DIR: dataDir },
});
connectorConformance("ECC4x App Server API", appServerPeer, { env });
