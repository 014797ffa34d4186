// The framework's own connectors pass the conformance suite, which proves the suite itself before
// the real connectors (Kafka, S3, SFTP, pollers) are held to it.
import {
  feedChat,
  startFeedPeer,
  testFeedConnector,
  testStreamConnector,
} from "../support/testConnectors.ts";
import { type ConformancePeer, connectorConformance } from "./conformance.ts";

function feedPeer(kind: string) {
  return async (): Promise<ConformancePeer> => {
    const peer = await startFeedPeer();
    let next = 0;
    return {
      kind,
      config: () => peer.config(),
      async produce(count) {
        const ids = Array.from({ length: count }, () => `${kind}-${next++}`);
        peer.add(...ids.map((id) => feedChat(id)));
        return ids;
      },
      async producePoison() {
        peer.add("{ this is not JSON");
      },
      // An outage: the feed answers 503 to everything for a while.
      async interrupt() {
        peer.failNext(1_000_000);
      },
      async restore() {
        peer.failNext(0);
      },
      close: () => peer.close(),
    };
  };
}

const connectors = [testFeedConnector, testStreamConnector];
connectorConformance("test feed (poll)", feedPeer("test_feed"), { connectors });
connectorConformance("test feed (stream)", feedPeer("test_stream"), { connectors, catchUpMs: 30_000 });
