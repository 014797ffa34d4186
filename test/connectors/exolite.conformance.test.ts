// The Exolite connector passes the connector conformance suite against the simulator of the
// published bulk call details API (the real system is proprietary).
import { startExoliteSimulator } from "../simulators/exoliteSimulator.ts";
import { type ConformancePeer, connectorConformance } from "./conformance.ts";

connectorConformance(
  "exolite (bulk call API simulator)",
  async (): Promise<ConformancePeer> => {
    const sim = await startExoliteSimulator();
    let next = 0;
    return {
      kind: "exolite",
      config: () => ({
        region: "custom",
        base_url: sim.url,
        account_sid: sim.accountSid,
        api_key: sim.apiKey,
        api_token: sim.apiToken,
        requests_per_minute: 100_000,
        lookback_minutes: 60,
        timezone: "Asia/Kolkata",
      }),
      async produce(count) {
        // Calls that ended a minute ago, their fields and recordings already filled in.
        const createdAt = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
        return Array.from({ length: count }, () => {
          const sid = `conf${String(next++).padStart(6, "0")}`;
          sim.addCall({ sid, createdAt });
          return sid;
        });
      },
      async producePoison() {
        // A Sid longer than an external_interaction_id may be: the ingest path refuses it.
        sim.addCall({ sid: `poison${"x".repeat(300)}`, createdAt: new Date(Date.now() - 60_000) });
      },
      async interrupt() {
        sim.setDown(true);
      },
      async restore() {
        sim.setDown(false);
      },
      close: () => sim.close(),
    };
  },
  { env: { CQA_TRANSCRIBER: "none" } },
);
